"""Child pipelines: the files a job's ``trigger: include:`` starts as a pipeline of their own.

GitLab runs a child pipeline from files of the same project (``trigger: include: path``,
``- local: path``); they are read as pipelines of their own (own ``variables:``, ``default:``),
and the other kinds (``project:``, ``artifact:``, ``template:``) are named as not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from uvci.gitlab.read.loader import local_target
from uvci.gitlab.read.nodes import Loc, Registry, site_of

MAX_CHILD_DEPTH = 2  # GitLab: a child pipeline may trigger one more level of children


def child_includes(
    jobs: Iterable[tuple[Mapping[str, Any], Loc]], registry: Registry
) -> tuple[list[tuple[str, Loc]], list[tuple[str, Loc]]]:
    """``(local files, others)`` the jobs' ``trigger: include:`` name, each with its place."""
    local: list[tuple[str, Loc]] = []
    others: list[tuple[str, Loc]] = []
    for config, job_loc in jobs:
        trigger = config.get("trigger")
        include = trigger.get("include") if isinstance(trigger, Mapping) else None
        entries = include if isinstance(include, list) else [] if include is None else [include]
        for index, entry in enumerate(entries):
            container, key = (
                site_of(include, index) if isinstance(include, list) else (trigger, "include")
            )
            loc = registry.locate(container, key) if container is not None else job_loc
            target = local_target(entry)
            if target is not None:
                local.append((target, loc))
            else:
                others.append((f"trigger: {_describe(entry)}", loc))
    return local, others


def _describe(entry: Any) -> str:
    if isinstance(entry, Mapping):
        kind = next(iter(entry), "remote")
        return f"{kind}: {entry.get(kind)}"
    return f"remote: {entry}"


def child_path(project_dir: Path, target: str) -> Path:
    return project_dir / target.lstrip("/")
