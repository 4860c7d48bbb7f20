"""`uvci run` end to end: the pure test project on every installed Python 3.10-3.13.

Real uv, real interpreters, the loopback index. The project gets a test that fails on one
Python only, and the matrix asks for a Python that is not installed. Test commands are
`python -m unittest` or small scripts (pytest is not on the loopback index).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.projects import lock
from tests.support.pyindex import LoopbackIndex
from tests.support.pythons import find_pythons
from uvci.planning import make_plan
from uvci.runner.interpreters import Missing, find_interpreter, uv_python_dir

pytestmark = pytest.mark.slow

UNITTEST = "python -m unittest discover -s tests"
FAILS_ON_ONE = """\
import sys
import unittest

FAILING = {failing!r}


class VersionTest(unittest.TestCase):
    def test_version_specific(self) -> None:
        self.assertNotEqual("%d.%d" % sys.version_info[:2], FAILING)
"""
# Writes "<pid> <grandchild pid>" into a file per process, then sleeps (for the Ctrl-C test).
SLEEPER = """\
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(os.path.join({piddir!r}, str(os.getpid())), "w") as f:
    f.write(f"{{os.getpid()}} {{grandchild.pid}}")
time.sleep(120)
"""


def _absent_python() -> str:
    """A Python that requires-python (>=3.10) allows and this machine does not have."""
    for minor in ("3.15", "3.14"):
        if isinstance(find_interpreter(minor, uv_python_dir()), Missing):
            return minor
    pytest.skip("3.14 and 3.15 are both installed: no missing interpreter to ask for")


def _uvci(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uvci run PROJECT ARGS``; without ``--python``, every installed Python 3.10-3.13."""
    matrix = [] if "--python" in args else ["--python", ",".join(find_pythons())]
    cmd = [sys.executable, "-m", "uvci", "run", str(project), *matrix, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def project(locked_project: Callable[..., Path], pythons: dict[str, Path]) -> Path:
    if len(pythons) < 2:
        pytest.skip("needs at least two installed Pythons")
    path = locked_project("pure")
    failing = sorted(pythons)[-2]
    (path / "tests" / "test_version.py").write_text(FAILS_ON_ONE.format(failing=failing))
    return path


def _results(stdout: str) -> dict[str, dict[str, object]]:
    return {cell["python"]: cell for cell in json.loads(stdout)["cells"]}


def test_matrix_with_a_passing_a_failing_and_a_missing_cell(
    project: Path, pythons: dict[str, Path], index: LoopbackIndex
) -> None:
    absent = _absent_python()
    matrix = ",".join([*sorted(pythons), absent])
    done = _uvci(project, "--python", matrix, "--test-command", UNITTEST, "--json")
    assert done.returncode == 1, done.stderr
    cells = _results(done.stdout)
    failing = sorted(pythons)[-2]
    assert {py: c["result"] for py, c in cells.items()} == {
        **{py: "passed" for py in pythons if py != failing},
        failing: "failed",
        absent: "skipped",
    }
    assert f"no Python {absent} installed" in str(cells[absent]["detail"])
    assert all(n == 1 for n in index.file_requests().values())  # fetched once for all cells
    for py in pythons:  # each cell's environment holds the project, built once
        env_python = project / ".uvci" / "run" / "envs" / py / "bin" / "python"
        out = subprocess.run([env_python, "-c", "import pure_app, alpha; print(pure_app.answer())"],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
        assert out.strip() == "42"
    assert len(list((project / ".uvci" / "run" / "dist" / "shared").glob("*/*.whl"))) == 1
    merged = ET.parse(project / ".uvci" / "run" / "junit.xml").getroot()
    expected = (str(len(pythons) + 1), "1", "1")
    assert (merged.get("tests"), merged.get("failures"), merged.get("skipped")) == expected
    assert all((project / ".uvci" / "run" / f"junit-{py}.xml").is_file() for py in cells)
    assert "summary" in done.stderr and "test_version_specific" in done.stderr


def test_keyword_and_passthrough_args_reach_the_test_command(
    project: Path, pythons: dict[str, Path]
) -> None:
    done = _uvci(project, "--test-command", UNITTEST, "-k", "test_answer", "--", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    merged = ET.parse(project / ".uvci" / "run" / "junit.xml").getroot()
    outputs = [e.text or "" for e in merged.iter("system-out")]
    assert len(outputs) == len(pythons)
    assert all("test_answer" in o and "test_version_specific" not in o for o in outputs)


def test_require_all_turns_a_missing_interpreter_into_exit_2(
    project: Path, pythons: dict[str, Path]
) -> None:
    absent = _absent_python()
    done = _uvci(project, "--python", f"{min(pythons)},{absent}", "--require-all")
    assert done.returncode == 2
    assert done.stderr.startswith(f"uvci run: error: --require-all: no Python {absent}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (project / ".uvci" / "run" / "envs").exists()
    assert not (project / ".uvci" / "wheels").exists()  # nothing fetched


def test_fail_fast_cancels_the_cells_after_the_first_failure(
    project: Path, pythons: dict[str, Path]
) -> None:
    done = _uvci(project, "--test-command", UNITTEST, "--fail-fast", "--jobs", "1", "--json")
    assert done.returncode == 1
    results = [c["result"] for _, c in sorted(_results(done.stdout).items())]
    assert results == [*["passed"] * (len(pythons) - 2), "failed", "cancelled"]


def _wait_for_files(directory: Path, count: int, seconds: float = 120) -> list[Path]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [p for p in directory.iterdir() if p.read_text()]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"only {list(directory.iterdir())} in {directory}")


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie runs no code


def _interrupt_while_testing(
    project: Path, pythons: dict[str, Path], tmp_path: Path, sig: signal.Signals
) -> Path:
    """Start a run whose tests sleep (with a grandchild), send ``sig`` once two cells are in
    their tests; check that uvci exits 130 leaving no process and no half-built env."""
    piddir = tmp_path / "pids"
    piddir.mkdir()
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(SLEEPER.format(piddir=str(piddir)))
    matrix = ",".join(sorted(pythons))
    cmd = [sys.executable, "-m", "uvci", "run", str(project), "--python", matrix, "--jobs", "2"]
    proc = subprocess.Popen([*cmd, "--test-command", f"python {sleeper}"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    pids = [int(p) for f in _wait_for_files(piddir, 2) for p in f.read_text().split()]
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert all(_gone(pid) for pid in pids), (pids, out)
    envs = project / ".uvci" / "run" / "envs"
    assert not [p for p in envs.iterdir() if p.name.startswith(".building")]
    assert "cancelled" in out and "interrupted" in out
    return envs


def test_ctrl_c_stops_every_child_and_the_rerun_starts_fresh(
    project: Path, pythons: dict[str, Path], tmp_path: Path
) -> None:
    envs = _interrupt_while_testing(project, pythons, tmp_path, signal.SIGINT)
    _rerun_trusts_only_complete_stamped_envs(project, envs, sorted(pythons))


def test_sigterm_is_handled_like_ctrl_c(
    project: Path, pythons: dict[str, Path], tmp_path: Path
) -> None:
    _interrupt_while_testing(project, pythons, tmp_path, signal.SIGTERM)


def _rerun_trusts_only_complete_stamped_envs(project: Path, envs: Path, pythons: list[str]) -> None:
    """What a crash (kill -9) mid-build leaves is removed; a complete env is reused only when
    its stamp matches; --fresh rebuilds every one."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    half = envs / f".building-3.12-{gone.stdout.strip()}"  # its builder is dead
    (half / "bin").mkdir(parents=True)
    complete = [py for py in pythons if (envs / py / "uvci-env.json").is_file()]
    assert complete  # the first cells finished their environment before the interrupt
    for py in complete:
        (envs / py / "planted").write_text("from the interrupted run")
    tampered = complete[0]
    (envs / tampered / "uvci-env.json").write_text("{}")
    done = _uvci(project, "--test-command", UNITTEST, "-k", "test_answer", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not half.exists() and sorted(p.name for p in envs.iterdir()) == pythons
    reused = {py for py, c in _results(done.stdout).items() if c["reused_environment"]}
    assert reused == set(complete) - {tampered}
    assert {py for py in complete if (envs / py / "planted").exists()} == reused
    done = _uvci(project, "--test-command", UNITTEST, "-k", "test_answer", "--json", "--fresh")
    assert done.returncode == 0 and not any(
        c["reused_environment"] for c in _results(done.stdout).values()
    )
    assert not any((envs / py / "planted").exists() for py in pythons)


def test_workspace_members_are_built_once_and_installed_in_every_cell(
    locked_project: Callable[..., Path], pythons: dict[str, Path]
) -> None:
    project = locked_project("workspace")
    check = "python -c 'import ws_app, ws_lib; assert \"site-packages\" in ws_app.__file__'"
    done = _uvci(project, "--test-command", check, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {c["result"] for c in _results(done.stdout).values()} == {"passed"}
    wheels = sorted(p.name for p in (project / ".uvci" / "run" / "dist").rglob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == ["ws_app", "ws_lib", "ws_root"]


def test_a_warm_run_reuses_every_environment_and_fetches_nothing(
    project: Path, pythons: dict[str, Path], index: LoopbackIndex
) -> None:
    args = ("--test-command", UNITTEST, "-k", "test_answer", "--json")
    first = _uvci(project, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    index.reset()
    again = json.loads(_uvci(project, *args).stdout)
    assert again["fetch_seconds"] is None and not index.requests
    assert [c["reused_environment"] for c in again["cells"]] == [True] * len(pythons)
    assert {c["result"] for c in again["cells"]} == {"passed"}
    # A changed lock (another gamma file hash): every environment is rebuilt, and here the
    # fetch refuses the file whose bytes do not match.
    gamma = next(p for p in make_plan(project).cells[0].packages if p.name == "gamma")
    assert gamma.sha256 is not None
    lock = project / "uv.lock"
    lock.write_text(lock.read_text().replace(gamma.sha256, "0" * 64))
    changed = _uvci(project, *args)
    assert changed.returncode == 2 and "sha256" in changed.stderr, changed.stderr


NATIVE_BACKEND = '''\
"""A build backend whose wheel is tagged for the building interpreter (like a C extension)."""
import base64, hashlib, os, sys, zipfile

TAG = "cp{0}{1}-cp{0}{1}-linux_x86_64".format(*sys.version_info[:2])


def get_requires_for_build_wheel(config_settings=None):
    return []


def _record(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = "%d.%d" % sys.version_info[:2]
    files = {
        "native_app/__init__.py": f"BUILT_FOR = {version!r}\\n".encode(),
        "native_app-0.1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: native-app\\n"
        b"Version: 0.1.0\\n",
        "native_app-0.1.0.dist-info/WHEEL": f"Wheel-Version: 1.0\\nGenerator: test\\n"
        f"Root-Is-Purelib: false\\nTag: {TAG}\\n".encode(),
    }
    record = "native_app-0.1.0.dist-info/RECORD"
    lines = [_record(n, d) for n, d in files.items()] + [f"{record},,"]
    files[record] = ("\\n".join(lines) + "\\n").encode()
    name = f"native_app-0.1.0-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return name
'''
NATIVE_PYPROJECT = """\
[project]
name = "native-app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[build-system]
requires = []
build-backend = "native_backend"
backend-path = ["."]
"""


def test_a_project_with_a_platform_wheel_is_built_per_cell(
    tmp_path: Path, pythons: dict[str, Path], uv_env: dict[str, str]
) -> None:
    project = tmp_path / "native"
    project.mkdir()
    (project / "pyproject.toml").write_text(NATIVE_PYPROJECT)
    (project / "native_backend.py").write_text(NATIVE_BACKEND)
    lock(project, uv_env)
    check = "import sys, native_app; assert native_app.BUILT_FOR == '%d.%d' % sys.version_info[:2]"
    done = _uvci(project, "--test-command", f'python -c "{check}"', "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    built = sorted((project / ".uvci" / "run" / "dist").glob("3.*/native-app/*.whl"))
    assert [w.parent.parent.name for w in built] == sorted(pythons)


def test_default_pytest_missing_from_the_environment_is_a_clear_cell_error(
    project: Path, pythons: dict[str, Path]
) -> None:
    """The loopback index has no pytest: a pytest elsewhere on PATH must not be used."""
    done = _uvci(project, "--python", min(pythons), "--json")
    assert done.returncode == 1
    cell = _results(done.stdout)[min(pythons)]
    assert cell["result"] == "error" and "pytest is not installed" in str(cell["detail"])
    report = ET.parse(project / ".uvci" / "run" / "junit.xml").getroot()
    assert report.get("errors") == "1"


def test_ctrl_c_during_the_fetch_exits_cleanly(
    locked_project: Callable[..., Path],
    make_index: Callable[..., LoopbackIndex],
    pythons: dict[str, Path],
) -> None:
    slow = make_index(bandwidth=1500)  # bytes per second: the fetch takes seconds
    project = locked_project("pure", index=slow)
    slow.reset()
    cmd = [sys.executable, "-m", "uvci", "run", str(project), "--python", min(pythons)]
    proc = subprocess.Popen([*cmd, "--test-command", UNITTEST], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(r.path.endswith(".whl") for r in slow.requests):  # one file fetched
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert time.monotonic() - start < 10
    assert "Traceback" not in out and "fetch: interrupted" in out
    assert not (project / ".uvci" / "run" / "envs").exists()


def test_a_warm_run_reinstalls_the_project_only_when_its_wheel_changed(
    project: Path, pythons: dict[str, Path]
) -> None:
    python = sorted(pythons)[0]
    args = ("--python", python, "--test-command", "python -c 'import pure_app'")

    def installed() -> Path:
        env = project / ".uvci" / "run" / "envs" / python
        return next(env.glob("lib/python*/site-packages/pure_app/__init__.py"))

    assert _uvci(project, *args).returncode == 0
    before = installed().stat()
    again = _uvci(project, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    after = installed().stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    source = project / "src" / "pure_app" / "__init__.py"
    source.write_text(source.read_text() + "CHANGED = True\n")
    changed = _uvci(project, *args)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "CHANGED = True" in installed().read_text()
