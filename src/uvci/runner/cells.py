"""One cell's pipeline: its environment (reused when its stamp matches, else built anew and
offline-installed from the wheelhouse), the project's wheels, the tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from uvci.errors import ProcessError
from uvci.model.plan import LocalPackage
from uvci.runner import builds, envs, junit
from uvci.runner.interpreters import Interpreter
from uvci.runner.testcmd import TestCommand
from uvci.util.uvproc import ChildGroups, check, uv_executable

CellResult = Literal["passed", "failed", "error", "skipped", "cancelled"]
PASSED: Final = "passed"
FAILED: Final = "failed"
ERROR: Final = "error"
SKIPPED: Final = "skipped"
CANCELLED: Final = "cancelled"


@dataclass
class CellRun:
    """The live state of one cell, written by its worker thread and read by the display."""

    python: str
    interpreter: Interpreter | None
    phase: str = "waiting"
    result: CellResult | None = None
    detail: str = ""
    started: float | None = None
    finished: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    output: str = ""
    junit: Path | None = None
    reused: bool = False  # the environment of an earlier run, with the same stamp

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def to_json(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "interpreter": str(self.interpreter.path) if self.interpreter else None,
            "version": self.interpreter.version if self.interpreter else None,
            "result": self.result,
            "detail": self.detail,
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "reused_environment": self.reused,
            "junit": str(self.junit) if self.junit else None,
        }

    def finish(self, result: CellResult, detail: str = "") -> None:
        self.result, self.detail, self.phase = result, detail, "done"
        self.finished = time.monotonic()


@dataclass(frozen=True)
class CellJob:
    """What a cell needs that the session prepared: wheelhouse install argv, wheels, paths."""

    run_dir: Path
    install_argv: Callable[[str, Path], list[str]]  # (cell python, env python) -> uv argv
    stamps: Mapping[str, str]  # cell python -> the fingerprint of its environment
    reuse: frozenset[str]  # cells whose environment of an earlier run is kept
    shared_wheels: dict[str, Path]
    local: Mapping[str, tuple[LocalPackage, ...]]  # cell python -> its local packages
    command: TestCommand
    project_root: Path


Notify = Callable[[CellRun], None]


def run_cell(cell: CellRun, job: CellJob, children: ChildGroups, notify: Notify) -> None:
    """Run the cell to a result; never raises for a failing step."""
    assert cell.interpreter is not None
    cell.started = time.monotonic()
    try:
        env = _prepare(cell, cell.interpreter, job, children, notify)
        _test(cell, env, job, children, notify)
    except ProcessError as exc:  # a step, or a build of the project's own wheel
        stopped = children.stopped
        cell.output = exc.output
        cell.finish(CANCELLED if stopped else ERROR, "stopped" if stopped else str(exc))
    except OSError as exc:  # disk full, permissions: this cell's error, not a traceback
        cell.finish(ERROR, f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    notify(cell)


def _set_phase(cell: CellRun, phase: str, notify: Notify) -> None:
    cell.phase = phase
    notify(cell)


def _step(children: ChildGroups, step: str, argv: list[str]) -> None:
    check(argv, children.run(argv), step)


def _prepare(
    cell: CellRun, interpreter: Interpreter, job: CellJob, children: ChildGroups, notify: Notify
) -> Path:
    """A complete environment at its final name: reused when its stamp matches, else new."""
    start = time.monotonic()
    final = envs.final_dir(job.run_dir, cell.python)
    if cell.python in job.reuse:
        cell.reused = True
        _set_phase(cell, "install", notify)
        try:  # the project's own wheels, rebuilt: reinstalled unless the same as last time
            _install_local(cell, interpreter.path, final, job, children)
        except BaseException:
            envs.unstamp(final)
            raise
    else:
        _build(cell, interpreter.path, job, children, notify, job.stamps[cell.python])
    cell.timings["install"] = time.monotonic() - start
    return final


def _build(
    cell: CellRun,
    interpreter: Path,
    job: CellJob,
    children: ChildGroups,
    notify: Notify,
    stamp: str,
) -> None:
    """A new environment under a temp name, published when complete (removed when not)."""
    building = envs.building_dir(job.run_dir, cell.python)
    try:
        _set_phase(cell, "venv", notify)
        envs.create(children, interpreter, building)
        _set_phase(cell, "install", notify)
        python = envs.env_python(building)
        argv = [uv_executable(), *job.install_argv(cell.python, python)]
        _step(children, "offline install", argv)
        _install_local(cell, interpreter, building, job, children)
        envs.stamp(building, stamp)
    except BaseException:
        envs.discard(building)
        raise
    envs.publish(building, envs.final_dir(job.run_dir, cell.python))


def _install_local(
    cell: CellRun, interpreter: Path, env: Path, job: CellJob, children: ChildGroups
) -> None:
    """The project's own wheels into ``env``, unless it holds these very files already."""
    wheels = []
    for package in job.local[cell.python]:
        wheel = job.shared_wheels.get(package.name)
        if wheel is None:  # not pure Python: built with this cell's interpreter
            out_dir = job.run_dir / "dist" / cell.python / package.name
            wheel = builds.build_wheel(children, package, interpreter, out_dir)
        wheels.append(wheel)
    digests = envs.wheel_digests(wheels)
    if not wheels or envs.has_local(env, digests):
        return
    envs.forget_local(env)
    argv = [uv_executable(), "pip", "install", "--python", str(envs.env_python(env))]
    argv += ["--offline", "--no-index", "--no-deps", "--reinstall", *map(str, wheels)]
    _step(children, "project install", argv)
    envs.record_local(env, digests)


def _test(cell: CellRun, env: Path, job: CellJob, children: ChildGroups, notify: Notify) -> None:
    _set_phase(cell, "test", notify)
    missing = job.command.missing_from(env / "bin")
    if missing is not None:
        cell.finish(ERROR, f"{missing} (uv sync installs the dev group) or pass --test-command")
        return
    start = time.monotonic()
    report = job.run_dir / f"junit-{cell.python}.xml"
    report.unlink(missing_ok=True)
    argv = job.command.argv(env / "bin", report)
    rc, out, err = children.run(argv, cwd=job.project_root, env=envs.test_environ(env))
    cell.timings["test"] = time.monotonic() - start
    cell.output = f"{out}{err}"
    if not (job.command.is_pytest and report.is_file()):
        junit.write_synthesized(report, cell.python, str(job.command), rc, cell.output)
    cell.junit = report
    if children.stopped:
        cell.finish(CANCELLED, "stopped")
    elif rc == 0:
        cell.finish(PASSED)
    else:
        cell.finish(FAILED, f"exit {rc}")
