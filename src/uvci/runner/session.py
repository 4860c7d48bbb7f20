"""The whole run: interpreters, one fetch, one build, cells in parallel, Ctrl-C, reports.

Ctrl-C (or SIGTERM) stops every child process group (SIGINT, then SIGTERM, then SIGKILL), lets
the cells record ``cancelled`` and removes their half-built environments before returning.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uvci.errors import FatalError, ProcessError
from uvci.model.plan import LocalPackage, Plan, local_packages
from uvci.runner import builds, envs
from uvci.runner.cells import CANCELLED, ERROR, FAILED, SKIPPED, CellJob, CellRun, run_cell
from uvci.runner.interpreters import Interpreter, Missing, find_interpreters
from uvci.runner.reports import write_reports
from uvci.runner.testcmd import TestCommand
from uvci.util.uvproc import ChildGroups

if TYPE_CHECKING:  # uvci.wheelhouse.fill is imported when used: warm runs skip it
    from uvci.runner.display import Progress  # (rich: `uvci run` preloads it)
    from uvci.wheelhouse.fill import PrefetchResult


@dataclass(frozen=True)
class RunOptions:
    command: TestCommand
    jobs: int
    fail_fast: bool = False
    require_all: bool = False
    wheelhouse: Path | None = None  # default: <project>/.uvci/wheels
    run_dir: Path | None = None  # default: <project>/.uvci/run
    fresh: bool = False  # never reuse a cell environment


@dataclass
class Outcome:
    cells: list[CellRun]
    run_dir: Path
    fetch_seconds: float | None = None
    fetch_note: str = "fetch: interrupted"  # what the summary says about the fetch
    interrupted: bool = False

    @property
    def merged_junit(self) -> Path:
        return self.run_dir / "junit.xml"

    @property
    def failed(self) -> bool:
        return any(c.result in (FAILED, ERROR) for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        fetch = None if self.fetch_seconds is None else round(self.fetch_seconds, 3)
        return {
            "cells": [c.to_json() for c in self.cells],
            "fetch_seconds": fetch,
            "interrupted": self.interrupted,
            "junit": str(self.merged_junit),
            "failed": self.failed,
        }


def run_dir(plan: Plan, chosen: Path | None) -> Path:
    """Absolute (children run in other directories); default ``<project>/.uvci/run``, refused
    when ``.uvci`` is a link (a restored cache may plant one to make a run write elsewhere)."""
    if chosen is not None:
        return chosen.resolve()
    state = plan.project.root / ".uvci"
    if state.is_symlink():
        raise FatalError(
            f"{state}: is a symbolic link; uvci writes and removes files there, so it never "
            "follows a link (a restored cache can plant one): remove the link and run again"
        )
    return Path(os.path.abspath(state / "run"))


def discover(plan: Plan, require_all: bool) -> list[CellRun]:
    """One :class:`CellRun` per cell; a missing interpreter is a skipped cell (or an error)."""
    found = find_interpreters(plan.pythons, run_dir(plan, None) / "interpreters.json")
    missing = [m for m in found.values() if isinstance(m, Missing)]
    if require_all and missing:
        raise FatalError(f"--require-all: {missing[0].reason}")
    if len(missing) == len(found):
        raise FatalError(f"no interpreter for any cell: {missing[0].reason}")
    cells = []
    for python, result in found.items():
        cell = CellRun(python, result if isinstance(result, Interpreter) else None)
        if isinstance(result, Missing):
            cell.finish(SKIPPED, result.reason)
        cells.append(cell)
    return cells


def run_matrix(
    plan: Plan, cells: list[CellRun], options: RunOptions, progress: Progress
) -> Outcome:
    outcome = Outcome(cells, run_dir(plan, options.run_dir))
    envs.remove_leftovers(outcome.run_dir)
    children = ChildGroups()
    try:
        with _sigterm_as_interrupt():
            job = _prepare(plan, outcome, options, children, progress)
            _run_cells(cells, job, children, options, progress)
    except KeyboardInterrupt:
        outcome.interrupted = True
        _stop(children)
        progress.phase("interrupted: child processes stopped")
    for cell in cells:
        if cell.result is None:
            cell.finish(CANCELLED, "interrupted" if outcome.interrupted else "not run")
    envs.remove_leftovers(outcome.run_dir)
    write_reports(outcome.cells, outcome.run_dir, outcome.merged_junit)
    return outcome


def _runnable(cells: list[CellRun]) -> list[CellRun]:
    return [c for c in cells if c.interpreter is not None]


def _prepare(
    plan: Plan, outcome: Outcome, options: RunOptions, children: ChildGroups, progress: Progress
) -> CellJob:
    """Fetch, once, the files of every cell whose environment must be built; build the
    project's pure wheels once."""
    runnable = _runnable(outcome.cells)
    stamps = {c.python: _stamp(plan, c) for c in runnable}
    reuse = frozenset() if options.fresh else _reusable(stamps, outcome.run_dir)
    house = _fetch(plan, options, [c for c in runnable if c.python not in reuse], outcome, progress)
    local = {c.python: local_packages(plan, c.python) for c in runnable}
    _set_phase(runnable, "build")
    first = runnable[0].interpreter
    assert first is not None
    union = tuple({p.name: p for packages in local.values() for p in packages}.values())
    shared = _build_shared(children, union, first, outcome.run_dir / "dist")
    return CellJob(
        run_dir=outcome.run_dir,
        install_argv=lambda py, env_python: _install_argv(house, py, env_python),  # built cells
        stamps=stamps,
        reuse=reuse,
        shared_wheels=shared,
        local=local,
        command=options.command,
        project_root=plan.project.root,
    )


def _wheelhouse(plan: Plan, options: RunOptions) -> Path:
    if options.wheelhouse is not None:
        return Path(os.path.abspath(options.wheelhouse))  # a link is refused, not followed
    from uvci.wheelhouse.fill import default_wheelhouse  # (imported when used: warm runs skip it)

    return Path(os.path.abspath(default_wheelhouse(plan.project.root)))


def _install_argv(house: Path | None, python: str, env_python: Path) -> list[str]:
    from uvci.wheelhouse.fill import offline_install_command

    assert house is not None, "only cells whose environment is built install, after the fetch"
    return offline_install_command(house, python, str(env_python))


def _reusable(stamps: dict[str, str], run_dir: Path) -> frozenset[str]:
    """The cells whose environment of an earlier run holds exactly what the plan says."""
    return frozenset(
        py for py, stamp in stamps.items() if envs.reusable(envs.final_dir(run_dir, py), stamp)
    )


def _stamp(plan: Plan, cell: CellRun) -> str:
    assert cell.interpreter is not None
    planned = next(c for c in plan.cells if c.python == cell.python)
    return envs.fingerprint(cell.interpreter.path, cell.interpreter.version, planned)


def _fetch(
    plan: Plan, options: RunOptions, cells: list[CellRun], outcome: Outcome, progress: Progress
) -> Path | None:
    """The wheelhouse filled for ``cells``; None (not even looked at) when there are none."""
    if not cells:
        progress.phase("every cell environment is up to date: nothing to fetch or install")
        outcome.fetch_note = "fetch: not needed (every environment reused)"
        return None
    house = _wheelhouse(plan, options)
    from uvci.wheelhouse.fill import fill_wheelhouse

    _set_phase(cells, "fetch")
    start = time.monotonic()
    result = fill_wheelhouse(plan, house, cells=[c.python for c in cells])
    outcome.fetch_seconds = time.monotonic() - start
    outcome.fetch_note = f"fetch (once, for every environment built): {outcome.fetch_seconds:.1f}s"
    progress.phase(f"wheelhouse {house}: {fetch_summary(result)}")
    return house


def _build_shared(
    children: ChildGroups,
    local: tuple[LocalPackage, ...],
    interpreter: Interpreter,
    dist: Path,
) -> dict[str, Path]:
    try:
        return builds.build_shared(children, local, interpreter.path, dist)
    except ProcessError as exc:
        raise FatalError(f"{exc.what} failed: {exc.tail(1)}") from None


def _set_phase(cells: list[CellRun], phase: str) -> None:
    for cell in cells:
        cell.phase = phase


def fetch_summary(result: PrefetchResult) -> str:
    """What the fill did, e.g. ``fetched 2 files (1,234 bytes), reused 5 files (...)``."""
    parts = [
        f"{action} {totals.files} files ({totals.bytes:,} bytes)"
        for action, totals in result.actions()
        if totals.files
    ]
    return ", ".join(parts) or "nothing to do"


def _run_cells(
    cells: list[CellRun],
    job: CellJob,
    children: ChildGroups,
    options: RunOptions,
    progress: Progress,
) -> None:
    runnable = _runnable(cells)
    _set_phase(runnable, "waiting")
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures: dict[Future[None], CellRun] = {
            pool.submit(run_cell, cell, job, children, progress.update): cell for cell in runnable
        }
        try:
            _wait_all(futures, children, options, progress)
        except KeyboardInterrupt:  # stop the children before the pool waits for its workers
            for future in futures:
                future.cancel()
            _stop(children)
            raise


def _wait_all(
    futures: dict[Future[None], CellRun],
    children: ChildGroups,
    options: RunOptions,
    progress: Progress,
) -> None:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            future.result()  # a bug in a worker surfaces here, not silently
        failed = [futures[f] for f in done if futures[f].result in (FAILED, ERROR)]
        if failed and options.fail_fast:
            _fail_fast(pending, futures, children, progress, failed[0])
            return


def _fail_fast(
    pending: set[Future[None]],
    futures: dict[Future[None], CellRun],
    children: ChildGroups,
    progress: Progress,
    first: CellRun,
) -> None:
    progress.phase(f"--fail-fast: {first.python} {first.result}; stopping the other cells")
    for future in pending:
        if future.cancel():
            futures[future].finish(CANCELLED, f"--fail-fast ({first.python} {first.result})")
    children.stop()


def _stop(children: ChildGroups) -> None:
    """Stop every child; a second Ctrl-C meanwhile is ignored so the cleanup completes."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        children.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `kill`) is handled like Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
