"""The jobs uvci's test matrix replaces, for `uvci generate` (to remove or name them) and
doctor's UVC025.

A job is replaced when every one of its cells (one job, or a ``parallel: matrix``) installs
the project with uv or pip, runs its tests (pytest or unittest, directly or through ``uv run``,
``python -m``, ``coverage run -m``) and tests one Python the matrix tests too. uvci's own jobs
(``uvci-*``) and the generated file are never candidates; a job whose Python cannot be told,
or that tests a Python outside the matrix, is not replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvci.doctor.context import Context
from uvci.doctor.shell import Command
from uvci.gitlab.read.nodes import Loc, origin_of
from uvci.gitlab.read.pipeline import Job

GENERATED = Path(".gitlab") / "ci" / "uvci.yml"
UVCI_JOBS = ("uvci-test", "uvci-test-writer")
_TEST_PROGRAMS = frozenset({"pytest", "py.test"})
_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
_PIP = re.compile(r"^pip3?(\.\d+)?$")
_PROJECT_ARG = re.compile(r"^(\.|\./.*|\.\[.*\]|-e|--editable|-r|--requirement)$")
_SYSTEM_PACKAGES = re.compile(r"\b(apt-get|apt|apk)\s+(install|add)\b")


@dataclass(frozen=True)
class Replaced:
    """A job (its YAML key) that the matrix replaces, and where it is written."""

    name: str
    loc: Loc
    pythons: tuple[str, ...]
    container: Any  # the ruamel mapping that holds the job's key
    also: tuple[str, ...]  # what it does beyond the tests, to carry over to uvci-test


def replaced_jobs(ctx: Context, pythons: Sequence[str]) -> list[Replaced]:
    """The jobs of ``ctx``'s pipeline that a matrix over ``pythons`` replaces, in file order."""
    groups: dict[str, list[Job]] = {}
    for job in ctx.pipeline.jobs:
        if _candidate(ctx, job):
            groups.setdefault(job.base, []).append(job)
    found = []
    for name, cells in groups.items():
        tested = tuple(_tested_python(ctx, job, pythons) for job in cells)
        if all(tested):
            found.append(_replaced(ctx, name, cells, tuple(p for p in tested if p)))
    return found


def matrix_pythons(ctx: Context) -> tuple[str, ...]:
    """The Pythons uvci's jobs test in ``ctx``'s pipeline (none: uvci's pipeline not included)."""
    cells = [job for job in ctx.pipeline.jobs if job.base in UVCI_JOBS]
    found = (job.cell.get("PYTHON") or job.variables.get("PYTHON") for job in cells)
    return tuple(sorted({p for p in found if p}))


def _candidate(ctx: Context, job: Job) -> bool:
    generated = ctx.project_dir / GENERATED
    return not job.base.startswith("uvci-") and job.loc.path != generated


def _tested_python(ctx: Context, job: Job, pythons: Sequence[str]) -> str | None:
    commands = ctx.commands(job)
    if not any(runs_tests(cmd) for cmd in commands):
        return None
    if not (ctx.installs_project(job) or any(_pip_installs_project(cmd) for cmd in commands)):
        return None
    python, _ = ctx.python_of(job)
    return python if python in pythons else None


def runs_tests(cmd: Command) -> bool:
    """``pytest ...``, ``uv run pytest``, ``python -m pytest``, ``coverage run -m pytest``,
    ``python -m unittest``."""
    program = cmd.argv[len(cmd.own) :] if len(cmd.own) < len(cmd.argv) else cmd.argv
    if not program:
        return False
    if program[0].rsplit("/", 1)[-1] in _TEST_PROGRAMS:
        return True
    words = list(program[:5])
    return any(w in ("-m", "--module") and words[i + 1 :][:1] in (["pytest"], ["unittest"])
               for i, w in enumerate(words))  # fmt: skip


def _pip_installs_project(cmd: Command) -> bool:
    """``pip install .``/``-e .``/``-r requirements.txt`` (``python -m pip`` too)."""
    argv = list(cmd.argv)
    if len(argv) > 2 and _PYTHON.match(argv[0]) and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    if not argv or not _PIP.match(argv[0]) or argv[1:2] != ["install"]:
        return False
    return any(_PROJECT_ARG.match(arg) for arg in argv[2:])


def _replaced(ctx: Context, name: str, cells: list[Job], pythons: tuple[str, ...]) -> Replaced:
    config = ctx.pipeline.config
    return Replaced(
        name=name,
        loc=cells[0].loc,
        pythons=tuple(sorted(set(pythons), key=lambda v: tuple(map(int, v.split("."))))),
        container=origin_of(config, name),
        also=tuple(_also(ctx, cells[0])),
    )


def _also(ctx: Context, job: Job) -> Iterator[str]:
    """What the job does that the plain matrix does not: the options or keys that carry it."""
    config = job.config
    reports = config.get("artifacts", {}).get("reports", {}) if _is_map(config, "artifacts") else {}
    covers = any("--cov" in cmd.argv or any(a.startswith("--cov") for a in cmd.argv)
                 for cmd in ctx.commands(job))  # fmt: skip
    if "coverage" in config or "coverage_report" in reports or covers:
        yield "coverage report (--coverage)"
    if any(_SYSTEM_PACKAGES.search(line.text) for line in job.scripts):
        yield "system packages (--system-packages)"
    for key in ("services", "tags", "rules", "needs"):
        if key in config:
            yield f"`{key}:` (under `uvci-test:` in .gitlab-ci.yml)"


def _is_map(config: Any, key: str) -> bool:
    return hasattr(config.get(key), "get")


def describe(job: Replaced) -> str:
    """One line: the job, where it is, what it tests, what to carry over."""
    also = f"; carry over its {', '.join(job.also)}" if job.also else ""
    return f"{job.name} ({job.loc}, Python {', '.join(job.pythons)}){also}"
