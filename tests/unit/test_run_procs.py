"""uvproc.ChildGroups: the (rc, out, err) contract, timeouts, and stopping whole groups."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from uvci.util.uvproc import ChildGroups

# A child that ignores SIGINT and starts a grandchild that ignores SIGINT and SIGTERM: stopping
# it needs every step of the escalation, and the grandchild is only reachable through the group.
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import signal, time; "
    "signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
grandchild.stdout.readline()
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getpid()} {grandchild.pid}")
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (it runs no code)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_for(path: Path, seconds: float = 20.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


def test_run_keeps_the_rc_out_err_contract() -> None:
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    assert ChildGroups().run([sys.executable, "-c", code]) == (3, "out\n", "err\n")


def test_missing_executable_is_rc_127() -> None:
    rc, out, err = ChildGroups().run(["/nonexistent/tool"])
    assert (rc, out) == (127, "") and "not found" in err


def test_timeout_stops_the_group_and_reports_124() -> None:
    start = time.monotonic()
    rc, _, err = ChildGroups().run(
        [sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5
    )
    assert rc == 124 and "timed out" in err
    assert time.monotonic() - start < 10


def test_stop_escalates_to_kill_and_reaches_grandchildren(tmp_path: Path) -> None:
    children = ChildGroups()
    pids_file = tmp_path / "pids"
    results: list[tuple[int, str, str]] = []
    cmd = [sys.executable, "-c", STUBBORN, str(pids_file)]
    worker = threading.Thread(target=lambda: results.append(children.run(cmd)))
    worker.start()
    pids = [int(p) for p in _wait_for(pids_file).split()]
    start = time.monotonic()
    children.stop(interrupt_wait=0.3, terminate_wait=0.3)
    worker.join(10)
    assert not worker.is_alive()
    assert results[0][0] < 0  # killed by a signal
    assert all(_gone(pid) for pid in pids), pids
    assert time.monotonic() - start < 5


def test_a_stopped_group_starts_nothing(tmp_path: Path) -> None:
    children = ChildGroups()
    children.stop()
    marker = tmp_path / "ran"
    rc, _, _ = children.run([sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    assert rc == 130 and not marker.exists()


def test_sigint_lets_a_cooperative_child_finish_cleanly(tmp_path: Path) -> None:
    """A child that handles SIGINT (pytest writing its report) exits in the first step."""
    children = ChildGroups()
    started, done = tmp_path / "started", tmp_path / "cleaned-up"
    code = (
        f"import sys, time\ntry:\n    open({str(started)!r}, 'w').write('1'); time.sleep(60)\n"
        f"except KeyboardInterrupt:\n    open({str(done)!r}, 'w'); sys.exit(2)"
    )
    results: list[tuple[int, str, str]] = []
    worker = threading.Thread(
        target=lambda: results.append(children.run([sys.executable, "-c", code]))
    )
    worker.start()
    _wait_for(started)
    children.stop(interrupt_wait=5, terminate_wait=1)
    worker.join(10)
    assert results[0][0] == 2 and done.exists()
