"""The plan from a project's files: read pyproject.toml and uv.lock, ask uv whether the lock is
up to date with pyproject.toml (as ``uv sync --locked`` requires), then plan every cell.

:func:`check_fresh` runs ``uv lock --check --offline`` and tells its failures apart:

- the lock is stale: one error naming uv.lock and uv's own account of the change
  (``Update forky v1.5 -> v1.0``, from ``uv lock --dry-run``, offline first, then against the
  index), not the offline check's artefact ("packages were unavailable because the network was
  disabled");
- uv found no interpreter to check with, or could not inspect one (a pyenv shim): freshness is
  *unchecked*, a warning with the fix (``uvci generate`` refuses: it writes a pipeline only for
  a lock known to be fresh);
- anything else (a bad setting, an unparsable pyproject.toml): one error that says the check
  failed for a reason other than the lock, with uv's words.

:func:`start_check` starts uv in a thread and returns at once, so that uvci parses uv.lock
while uv checks it; :meth:`PendingCheck.result` waits for uv and tells the outcome.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from uvci.errors import FatalError
from uvci.model.lock import Lock, load_lock, printable
from uvci.model.plan import Plan, plan_cells
from uvci.model.platforms import DEFAULT_PLATFORM, resolve_target
from uvci.model.project import Project, load_project, python_matrix
from uvci.model.selection import Selection
from uvci.util.uvproc import Result, run_uv

_INTERPRETER = re.compile(
    r"no interpreter found|failed to (inspect|query) python interpreter|"
    r"python interpreter .* not found|could not find a python",
    re.IGNORECASE,
)
_CHANGE = re.compile(r"\s*(Add|Added|Update|Updated|Remove|Removed) ")
DRY_RUN_TIMEOUT = 60
# uv's own check that uv.lock matches pyproject.toml (`uvci doctor --fix` asks it too)
LOCK_CHECK = ("lock", "--check", "--offline", "--quiet", "--no-progress")


def is_stale(err: str) -> bool:
    """uv's words for a lock that does not match pyproject.toml (offline, new requirements
    cannot even be resolved)."""
    return "needs to be updated" in err or "No solution found" in err


@dataclass(frozen=True)
class Freshness:
    unchecked: str | None = None  # why freshness could not be checked, with the fix


def make_plan(
    root: Path,
    *,
    python: Sequence[str] | None = None,
    platform: str = DEFAULT_PLATFORM,
    selection: Selection | None = None,
    today: dt.date | None = None,
    check_lock: bool = True,
    interpreters: Mapping[str, str] | None = None,
) -> Plan:
    """Read ``root``'s pyproject.toml and uv.lock and plan every cell of the matrix, each at
    the Python version it runs (``interpreters``: minor -> full version; see
    :mod:`uvci.model.patchlevels`)."""
    selection = selection or Selection()
    project = load_project(root)
    pending = start_check(project) if check_lock else None  # uv checks while we parse
    lock = _load_lock(root / "uv.lock", pending)
    fresh = pending.result(lock) if pending is not None else Freshness()
    resolve_target(platform)  # an unknown platform fails before the matrix is worked out
    matrix = python_matrix(project, lock.requires_python, python, today)
    plan = Plan(project, lock, platform, selection, (), matrix.notes, fresh.unchecked)
    return plan_cells(plan, matrix.pythons, interpreters)


def _load_lock(path: Path, pending: PendingCheck | None) -> Lock:
    """The lock; when it cannot be read, its error (and uv has finished before it is raised)."""
    try:
        return load_lock(path)
    except BaseException:
        if pending is not None:
            pending.wait()
        raise


class PendingCheck:
    """``uv lock --check --offline`` running in a thread of its own (uv does the work; the
    thread only waits for it, so the lock can be parsed meanwhile)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._outcome: Result | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="uv-lock-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = run_uv(LOCK_CHECK, cwd=self.project.root, env=None)
        except BaseException as exc:  # handed to the caller's thread by result()
            self._outcome = exc

    def wait(self) -> None:
        """Until uv has finished (e.g. before an error elsewhere ends the command)."""
        self._thread.join()

    def result(self, lock: Lock) -> Freshness:
        """Waits for uv; raises FatalError for a stale lock or another failure."""
        self.wait()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None  # set by _run before the thread ends
        return _judge(self.project, lock, outcome)


def start_check(project: Project) -> PendingCheck:
    """Start checking ``project``'s uv.lock; see the module docstring."""
    return PendingCheck(project)


def check_fresh(project: Project, lock: Lock) -> Freshness:
    """See the module docstring; raises FatalError for a stale lock or another failure."""
    return start_check(project).result(lock)


def _judge(project: Project, lock: Lock, outcome: Result) -> Freshness:
    rc, _, err = outcome
    if rc == 0:
        return Freshness()
    if rc == 127:
        return Freshness("uv not found; install uv (`pip install uv`) or set UVCI_UV")
    said = first_line(err)
    if _INTERPRETER.search(err):
        return Freshness(_interpreter_problem(project, said))
    if "required uv version" in err.lower():
        raise FatalError(
            f"{project.pyproject}: [tool.uv] required-version excludes the local uv "
            f"[uv: {said}]; install a uv it allows"
        )
    if is_stale(err):
        raise FatalError(
            f"{lock.path}: out of date with {project.pyproject} (uv sync --locked would refuse "
            f"it); run `uv lock` and commit uv.lock [uv: {_change(project) or said}]"
        )
    unreadable = _unparsable_lock(lock, err)
    if unreadable is not None:
        raise FatalError(unreadable)
    raise FatalError(
        f"{project.pyproject}: `uv lock --check --offline` failed for a reason other than "
        f"uv.lock: {said}; fix what uv names and run again"
    )


_PARSE_AT = re.compile(r"at line (\d+), column (\d+)")
_GUTTER = re.compile(r"^\s*\d*\s*\|")  # uv's source excerpt: `12 | text`, `   | ^^^`


def _unparsable_lock(lock: Lock, err: str) -> str | None:
    """uv's own account of a uv.lock it cannot parse (uvci could): file:line:column, cause."""
    lines = [line for line in err.splitlines() if line.strip()]
    if not lines or "failed to parse `uv.lock`" not in lines[0].lower():
        return None
    where = str(lock.path)
    for line in lines[1:]:
        if (at := _PARSE_AT.search(line)) is not None:
            where = f"{lock.path}:{at.group(1)}:{at.group(2)}"
            break
    causes = [line.strip().removeprefix("cause: ") for line in lines[1:]]
    causes = [c for c in causes if not _GUTTER.match(c) and not _PARSE_AT.search(c)] or ["?"]
    cause = printable(causes[-1])[:300]
    return (
        f"{where}: uv cannot parse uv.lock: {cause}; fix that line or re-create it with `uv lock`"
    )


def first_line(err: str) -> str:
    """uv's first line of ``err``, without its ``error:``."""
    first = next((line for line in err.splitlines() if line.strip()), "").strip()
    return first.removeprefix("error: ")


def _interpreter_problem(project: Project, said: str) -> str:
    if "inspect" in said.lower() or "query" in said.lower():
        return (
            f"uv could not inspect the Python interpreter it was given [uv: {said}]; point "
            "UV_PYTHON (or .python-version) at a real interpreter, not a pyenv shim (e.g. "
            "`$(pyenv prefix 3.12)/bin/python`)"
        )
    return (
        f"no local Python fits requires-python of {project.pyproject} [uv: {said}]; install "
        "one (`uv python install`, or pyenv) or allow uv to download it (UV_PYTHON_DOWNLOADS)"
    )


def _change(project: Project) -> str | None:
    """uv's own account of what `uv lock` would change (offline first, then the index)."""
    env = {**os.environ, "UV_HTTP_RETRIES": "0"}  # an unreachable index: give up at once
    for offline in (("--offline",), ()):
        args = ["lock", "--dry-run", "--no-progress", *offline]
        rc, out, err = run_uv(args, cwd=project.root, env=env, timeout=DRY_RUN_TIMEOUT)
        changes = [line.strip() for line in (out + err).splitlines() if _CHANGE.match(line)]
        if rc == 0 and changes:
            return "; ".join(changes)
    return None
