"""Run the rules over a pipeline and its project; one :class:`Report` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from uvci.doctor.catalog import RULES
from uvci.doctor.context import Context
from uvci.doctor.model import Finding
from uvci.errors import FatalError
from uvci.gitlab.read.nodes import Loc
from uvci.gitlab.read.pipeline import Pipeline, read_pipeline
from uvci.model.lock import Lock, load_lock
from uvci.model.project import Project, load_project


@dataclass(frozen=True)
class Report:
    pipeline: Pipeline
    findings: tuple[Finding, ...]
    uv_jobs: int
    project: Project | None
    has_lock: bool

    @property
    def not_checked(self) -> tuple[tuple[str, Loc], ...]:
        return tuple(item for pipeline in self.pipeline.every() for item in pipeline.not_checked)

    @property
    def jobs(self) -> int:
        """The jobs of the pipeline and of the child pipelines it triggers."""
        return sum(len(pipeline.jobs) for pipeline in self.pipeline.every())


def check(
    path: Path,
    select: Iterable[str] = (),
    *,
    for_fix: bool = False,
    inputs: Mapping[str, Any] = {},
) -> Report:
    """Read the pipeline at ``path`` (file or directory) and run the rules (all, or ``select``).

    ``for_fix=True`` loads round-trip YAML, so the findings' edits can be written back.
    ``inputs``: values for the root file's ``spec: inputs`` (``--input NAME=VALUE``).
    """
    pipeline = read_pipeline(path, round_trip=for_fix, inputs=inputs)
    wanted = {s.upper() for s in select}
    found: list[Finding] = []
    uv_jobs = 0
    for each in pipeline.every():  # a child pipeline is judged as a pipeline of its own
        ctx = _context(each)
        for rule in RULES:
            if not wanted or rule.id in wanted:
                found.extend(rule.check(ctx))
        uv_jobs += len(ctx.uv_jobs())
    return Report(pipeline, merge(found), uv_jobs, ctx.project, ctx.has_lock)


def _context(pipeline: Pipeline) -> Context:
    root = pipeline.project_dir
    project = load_project(root) if (root / "pyproject.toml").is_file() else None
    lock_path = root / "uv.lock"
    lock: Lock | None = None
    if lock_path.is_file():
        try:
            lock = load_lock(lock_path)
        except FatalError:
            lock = None  # an unreadable lock still "exists" for the rules about --locked
    return Context(pipeline, project, lock, lock_path.is_file())


def merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """One finding per (rule, place, message), naming every job it applies to."""
    merged: dict[tuple[str, Loc, str], Finding] = {}
    for finding in findings:
        key = (finding.rule, finding.loc, finding.message)
        if key in merged:
            old = merged[key]
            jobs = old.jobs + tuple(j for j in finding.jobs if j not in old.jobs)
            merged[key] = replace(old, jobs=jobs, edits=old.edits or finding.edits)
        else:
            merged[key] = finding
    return tuple(sorted(merged.values(), key=lambda f: (str(f.loc.path), f.loc.line, f.rule)))
