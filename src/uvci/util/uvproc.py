"""The one wrapper for every subprocess uvci starts (uv and anything else).

Every call returns ``(returncode, stdout, stderr)``. Where a non-zero exit is a failure,
:func:`check` turns it into the one :class:`ProcessError` (the command, its exit code and its
output), which the commands turn into the one ``FatalError`` (pre-commit's
``CalledProcessError`` is the model). :func:`build_wheel` is the one ``uv build --wheel``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from uvci.errors import FatalError, ProcessError

Result = tuple[int, str, str]
Runner = Callable[..., Result]  # cmd_output, or ChildGroups.run


def check(cmd: Sequence[str], result: Result, what: str = "") -> tuple[str, str]:
    """``(out, err)`` of a finished ``cmd``; :class:`ProcessError` when it exited non-zero."""
    rc, out, err = result
    if rc != 0:
        raise ProcessError(cmd, rc, f"{out}{err}".strip(), what)
    return out, err


def cmd_output(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
) -> Result:
    """Run ``cmd`` and return ``(rc, out, err)``. A missing executable is rc 127."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        return 127, "", f"{cmd[0]}: not found ({exc.strerror})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return 124, out, f"{cmd[0]}: timed out after {timeout}s"
    return proc.returncode, proc.stdout, proc.stderr


def uv_executable() -> str:
    """The uv to run: ``$UVCI_UV`` if set, else ``uv`` on PATH."""
    return os.environ.get("UVCI_UV") or shutil.which("uv") or "uv"


def run_uv(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``uv ARGS``; same contract as :func:`cmd_output`."""
    return cmd_output([uv_executable(), *args], cwd=cwd, env=env, timeout=timeout)


def build_wheel(
    source: Path, interpreter: str | Path, out_dir: Path, *, cwd: Path, run: Runner = cmd_output
) -> Path:
    """``uv build --wheel`` of ``source`` (a project directory or an sdist) with ``interpreter``
    into the empty directory ``out_dir``: the one wheel it made, else :class:`ProcessError`."""
    cmd = [uv_executable(), "build", "--wheel", "--no-progress", "--python", str(interpreter)]
    cmd += ["--out-dir", str(out_dir.resolve()), str(source.resolve())]
    what = f"`uv build --wheel` of {source.name}"
    out, err = check(cmd, run(cmd, cwd=cwd), what)
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise ProcessError(cmd, 0, f"{out}{err}\nmade {len(wheels)} wheels, not one".strip(), what)
    return wheels[0]


@functools.lru_cache(maxsize=1)
def uv_version() -> str:
    """The version of the local uv, e.g. ``0.13.9``."""
    rc, out, err = run_uv(["--version"])
    match = re.search(r"uv (\d+\.\d+\.\d+\S*)", out)
    if rc != 0 or match is None:
        raise FatalError(
            f"uv not found or not working ({err.strip() or out.strip()}); "
            "install it with `pip install uv` or set UVCI_UV"
        )
    return match.group(1)


class ChildGroups:
    """Children that each run in a process group of their own, so one call stops them all.

    :meth:`run` keeps the ``(rc, out, err)`` contract of :func:`cmd_output`. :meth:`stop` (from any
    thread, e.g. on Ctrl-C) stops every running group the way nox does: SIGINT, then SIGTERM, then
    SIGKILL, each after a grace period; a group's grandchildren are signalled with it. Once stopped,
    :meth:`run` starts nothing more and returns rc 130.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self.stopped = False

    def run(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Run ``cmd`` in a new session; a timeout stops its whole group (rc 124)."""
        try:
            proc = self._start(cmd, cwd, env)
        except FileNotFoundError as exc:
            return 127, "", f"{cmd[0]}: not found ({exc.strerror})"
        if proc is None:
            return 130, "", f"{cmd[0]}: not started (stopping)"
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_groups([proc], interrupt_wait=1.0, terminate_wait=1.0)
            out, err = proc.communicate()
            return 124, out, f"{err}{cmd[0]}: timed out after {timeout}s"
        finally:
            with self._lock:
                self._running.discard(proc)
        return proc.returncode, out, err

    def _start(
        self, cmd: Sequence[str], cwd: Path | str | None, env: Mapping[str, str] | None
    ) -> subprocess.Popen[str] | None:
        with self._lock:
            if self.stopped:
                return None
            proc = subprocess.Popen(
                list(cmd),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self._running.add(proc)
            return proc

    def stop(self, *, interrupt_wait: float = 3.0, terminate_wait: float = 2.0) -> None:
        """Stop every running group and refuse new ones; returns when all are gone."""
        with self._lock:
            self.stopped = True
            procs = list(self._running)
        _stop_groups(procs, interrupt_wait=interrupt_wait, terminate_wait=terminate_wait)


def _signal_group(proc: subprocess.Popen[str], sig: int) -> bool:
    """Send ``sig`` to ``proc``'s group; False when the group has no process left."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _group_alive(proc: subprocess.Popen[str]) -> bool:
    if proc.poll() is None:
        return True
    return _signal_group(proc, 0) and _has_live_member(proc.pid)


def _has_live_member(pgid: int) -> bool:
    """Whether group ``pgid`` has a member that is not a zombie (Linux /proc; else assume yes)."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return True
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _stop_groups(
    procs: Sequence[subprocess.Popen[str]], *, interrupt_wait: float, terminate_wait: float
) -> None:
    steps = (
        (signal.SIGINT, interrupt_wait),
        (signal.SIGTERM, terminate_wait),
        (signal.SIGKILL, 5.0),
    )
    alive = list(procs)
    for sig, wait in steps:
        alive = [p for p in alive if _group_alive(p)]
        for proc in alive:
            _signal_group(proc, sig)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = [p for p in alive if _group_alive(p)]
        if not alive:
            return
