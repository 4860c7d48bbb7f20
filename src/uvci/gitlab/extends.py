"""``extends:`` resolution: parents merged in order, the job on top, cycles reported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from uvci.errors import FatalError
from uvci.gitlab.nodes import MergedMap, Registry, as_str_list, deep_merge

MAX_EXTENDS_DEPTH = 11


def resolve_extends(jobs: Mapping[str, Any], registry: Registry) -> dict[str, MergedMap]:
    """Every job (and template) of ``jobs`` with its ``extends:`` chain merged in."""
    done: dict[str, MergedMap] = {}
    for name in jobs:
        _resolve(name, jobs, registry, done, [])
    return done


def _resolve(
    name: str,
    jobs: Mapping[str, Any],
    registry: Registry,
    done: dict[str, MergedMap],
    chain: list[str],
) -> MergedMap:
    if name in done:
        return done[name]
    job = jobs[name]
    where = registry.locate(job, "extends") if "extends" in job else None
    if name in chain:
        path = " -> ".join([*chain[chain.index(name) :], name])
        raise FatalError(f"{where}: cyclic extends: {path}; remove one of these extends")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise FatalError(f"{where}: extends nested deeper than {MAX_EXTENDS_DEPTH} levels")
    merged = MergedMap()
    for parent in as_str_list(job.get("extends")):
        if parent not in jobs:
            raise FatalError(f"{where}: job '{name}' extends '{parent}', which is not defined")
        merged = deep_merge(merged, _resolve(parent, jobs, registry, done, [*chain, name]))
    own = {k: v for k, v in job.items() if k != "extends"}
    result = deep_merge(merged, _with_sources(own, job))
    done[name] = result
    return result


def _with_sources(own: dict[str, Any], job: Any) -> MergedMap:
    out = MergedMap()
    for key, value in own.items():
        out.put(key, value, job)
    return out
