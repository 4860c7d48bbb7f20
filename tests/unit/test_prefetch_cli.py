"""`uvci prefetch` end to end: JSON report, status files beside the wheelhouse, CI log sections,
clear errors (exit 2), interrupted downloads and a full disk never leave a file that passes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.dists import build_wheel
from tests.support.projects import index_table, lock
from tests.support.pyindex import LoopbackIndex
from tests.support.tmpfs import tmpfs
from uvci.cli import main
from uvci.wheelhouse.ownership import MARKER

MakeIndex = Callable[..., LoopbackIndex]
BIG = "bigpkg-1.0-py3-none-any.whl"


def prefetch(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["prefetch", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_report_and_status_files(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    wheelhouse = project / ".uvci" / "wheels"
    rc, out, err = prefetch(capsys, str(project), "--python", "3.10,3.12", "--json")
    assert rc == 0, err
    report = json.loads(out)
    assert report["changed"] is True
    assert report["fetched"] == {"files": 4, "bytes": report["fetched"]["bytes"]}
    assert report["requirements"]["3.10"] == str(wheelhouse / "requirements-3.10.txt")
    assert json.loads((project / ".uvci" / "wheels.prefetch.json").read_text()) == report
    assert not (project / ".uvci" / "wheels.unchanged").exists()
    rc, out, _ = prefetch(capsys, str(project), "--python", "3.10,3.12", "--json")
    assert (rc, json.loads(out)["changed"]) == (0, False)
    assert json.loads(out)["reused"]["files"] == 4
    assert (project / ".uvci" / "wheels.unchanged").is_file()


def test_a_failed_run_removes_the_unchanged_marker(
    locked_project: LockedProject, index: LoopbackIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    assert prefetch(capsys, str(project), "--python", "3.12")[0] == 0
    assert prefetch(capsys, str(project), "--python", "3.12")[0] == 0
    assert (project / ".uvci" / "wheels.unchanged").is_file()
    (project / ".uvci" / "wheels" / "gamma-1.1-py3-none-any.whl").unlink()
    index.fail("gamma-1.1-py3-none-any.whl", status=404, times=None)
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 2
    assert not (project / ".uvci" / "wheels.unchanged").exists()
    assert not (project / ".uvci" / "wheels.prefetch.json").exists()
    line = [x for x in err.splitlines() if x.startswith("uvci prefetch: error:")]
    assert line == [
        "uvci prefetch: error: gamma-1.1-py3-none-any.whl: HTTP 404 Not Found from "
        f"{index.base}/files/gamma-1.1-py3-none-any.whl; the index no longer has this file: "
        "run `uv lock --upgrade` and commit uv.lock"
    ]
    assert "Traceback" not in err


def test_gitlab_log_has_a_collapsed_section_and_a_summary_after_it(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    project = locked_project("pure")
    monkeypatch.chdir(project)
    rc, _, err = prefetch(capsys, ".", "--python", "3.12", "--wheelhouse", "wh")
    assert rc == 0
    lines = err.split("\n")
    assert lines[0].startswith("\x1b[0Ksection_start:")
    assert ":uvci_prefetch[collapsed=true]\r\x1b[0Kwheelhouse wh: 3 files" in lines[0]
    assert "  fetched gamma-1.1-py3-none-any.whl (0.00 MB)" in lines
    end = next(i for i, line in enumerate(lines) if "section_end:" in line)
    assert lines[end].endswith(":uvci_prefetch\r\x1b[0K")
    assert lines[end + 1].startswith("uvci prefetch: wh changed: fetched 3 (")
    assert Path("wh", "requirements-3.12.txt").is_file()


def test_plain_log_outside_gitlab(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("GITLAB_CI", raising=False)  # outside GitLab, even when run in its CI
    project = locked_project("pure")
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 0 and "section_start" not in err and "\x1b" not in err
    assert err.splitlines()[-1].endswith(
        "fetched 3 (0.0 MB), reused 0 (0.0 MB), built 0 (0.0 MB), removed 0 (0.0 MB)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cell", "3.9"], "cell 3.9 is not in the plan's matrix (3.12)"),
        (["--jobs", "0"], "--jobs 0: must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    project = locked_project("pure")
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12", *args)
    assert rc == 2
    assert err.strip().startswith(f"uvci prefetch: error: {message}")


@pytest.fixture
def big_project(
    tmp_path: Path, make_index: MakeIndex, uv_env: dict[str, str]
) -> Iterator[tuple[Path, LoopbackIndex]]:
    """A project needing one ~300 KB wheel from a private index (slow enough to interrupt)."""
    index = make_index()
    payload = os.urandom(300_000).hex()
    build_wheel(index.catalog.directory, "bigpkg", "1.0", module_source=f'DATA = "{payload}"\n')
    project = tmp_path / "big"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "big-app"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["bigpkg", "gamma"]\n\n[tool.uv]\npackage = false\n'
        + index_table(index.url)
    )
    lock(project, uv_env)
    yield project, index


def _start(project: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "uvci", "prefetch", str(project), "--python", "3.12"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_download(index: LoopbackIndex, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while BIG not in index.file_requests():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)


def _leftovers(wheelhouse: Path) -> set[str]:
    return {p.name for p in wheelhouse.iterdir()} if wheelhouse.exists() else set()


def test_interrupt_leaves_no_file(big_project: tuple[Path, LoopbackIndex]) -> None:
    project, index = big_project
    index.bandwidth = 50_000
    proc = _start(project)
    _wait_for_download(index, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not [n for n in _leftovers(project / ".uvci" / "wheels") if "bigpkg" in n]


def test_killed_download_never_passes_as_complete(
    big_project: tuple[Path, LoopbackIndex], capsys: pytest.CaptureFixture[str]
) -> None:
    project, index = big_project
    index.bandwidth = 50_000
    proc = _start(project)
    _wait_for_download(index, proc)
    proc.kill()
    proc.wait(timeout=30)
    wheelhouse = project / ".uvci" / "wheels"
    assert BIG not in _leftovers(wheelhouse)
    index.bandwidth = None
    index.reset()
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 0, err
    assert index.file_requests()[BIG] == 1
    assert not [n for n in _leftovers(wheelhouse) if n.endswith(".part")]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 128 KiB tmpfs."""
    with tmpfs(tmp_path / "tiny", "128k") as mount:
        yield mount


def test_disk_full_is_a_clear_error_and_nothing_half_written(
    big_project: tuple[Path, LoopbackIndex], tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = big_project
    wheelhouse = tiny_disk / "wheels"
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse))
    assert rc == 2
    line = err.strip().splitlines()[-1]
    # the big wheel fills the disk; whichever write then fails (it, or a small one) is named
    assert line.startswith(f"uvci prefetch: error: {wheelhouse}: disk full while writing ")
    assert "free some space" in line
    assert BIG not in _leftovers(wheelhouse)
    assert not [n for n in _leftovers(wheelhouse) if n.endswith(".part")]


def test_retries_are_logged_and_the_run_succeeds(
    locked_project: LockedProject,
    index: LoopbackIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    project = locked_project("pure")
    index.fail("gamma-1.1-py3-none-any.whl", status=502, times=1)
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 0
    assert "  note: gamma-1.1-py3-none-any.whl: HTTP 502 Bad Gateway; retrying in 0.0 s" in err


def test_unreachable_index_is_one_clear_error(
    locked_project: LockedProject,
    make_index: MakeIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("UV_HTTP_RETRIES", "1")
    index = make_index()
    project = locked_project("pure", index=index)
    index.stop()
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 2
    error = [line for line in err.splitlines() if line.startswith("uvci prefetch: error:")]
    assert len(error) == 1 and "download failed after 2 attempts from" in error[0]
    assert f"{index.base}/files/" in error[0] and "Connection refused" in error[0]
    assert "Traceback" not in err


def test_bad_retry_setting_is_one_clear_error(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "soon")
    rc, _, err = prefetch(capsys, str(locked_project("pure")), "--python", "3.12")
    assert rc == 2
    assert "uvci prefetch: error: UVCI_HTTP_BACKOFF='soon': not a number; fix or unset it" in err


def test_read_only_wheelhouse_is_a_clear_error(
    locked_project: LockedProject, tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    wheelhouse = tiny_disk  # read-only itself; its status files beside it are writable
    (wheelhouse / MARKER).write_text("a wheelhouse uvci made\n")
    (wheelhouse / "stale-1.0-py3-none-any.whl").write_bytes(b"old")
    remount = ["mount", "-o", "remount,ro", str(tiny_disk)]
    if subprocess.run(remount, capture_output=True).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse))
    assert rc == 2
    assert "Read-only file system" in err and "Traceback" not in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            f"uvci prefetch: error: {wheelhouse}/stale-1.0-py3-none-any.whl: Read-only file system"
        )
    )


# a fetching cell installs uvci without these (toolenv.NOT_IMPORTED_BY_PREFETCH): a real
# prefetch must run with them made unimportable
BLOCK_AND_PREFETCH = """
import sys
from uvci.gitlab.generate.toolenv import NOT_IMPORTED_BY_PREFETCH
for name in NOT_IMPORTED_BY_PREFETCH:
    for module in [m for m in sys.modules if m.split(".")[0] == name.replace("-", "_")]:
        del sys.modules[module]
    sys.modules[{"ruamel-yaml": "ruamel"}.get(name, name.replace("-", "_"))] = None
from uvci.cli import main
sys.exit(main(["prefetch", *sys.argv[1:]]))
"""


def test_prefetch_runs_without_the_dependencies_a_cell_leaves_out(
    locked_project: LockedProject, uv_env: dict[str, str]
) -> None:
    project = locked_project("pure")
    argv = [sys.executable, "-c", BLOCK_AND_PREFETCH, str(project), "--python", "3.10,3.12"]
    result = subprocess.run(argv, capture_output=True, text=True, env=uv_env, check=False)
    assert result.returncode == 0, result.stderr
    assert (project / ".uvci" / "wheels" / "requirements-3.12.txt").is_file()


def test_frozen_uses_the_lock_as_it_is_without_asking_uv(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha>=1.1"', '"alpha>=1.1", "tint"'))
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 2 and "uv.lock" in err  # stale: refused, as `uv sync --locked` would
    rc, _, err = prefetch(capsys, str(project), "--python", "3.12", "--frozen")
    assert rc == 0, err  # the generated job checked it already (`uv export --locked`)
    assert (project / ".uvci" / "wheels" / "requirements-3.12.txt").is_file()


def test_base_and_delta_status_files(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    uvci = project / ".uvci"
    argv = [str(project), "--python", "3.12", "--wheelhouse", str(uvci / "wheels-delta")]
    argv += ["--base", str(uvci / "wheels")]
    rc, _, err = prefetch(capsys, *argv)
    assert rc == 0, err
    assert "base rewritten with the delta's files, delta emptied" in err  # cold: into the base
    assert not (uvci / "wheels.unchanged").exists()
    assert not (uvci / "wheels-delta.unchanged").exists()  # its manifest, for the next bump
    rc, _, err = prefetch(capsys, *argv)
    assert rc == 0, err
    assert "base unchanged, delta unchanged" in err
    assert (uvci / "wheels.unchanged").exists() and (uvci / "wheels-delta.unchanged").exists()


def test_a_base_that_is_not_uvcis_is_refused_in_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    foreign = project / "src"  # the project's own files: never a wheelhouse
    before = sorted(foreign.rglob("*"))
    argv = [str(project), "--python", "3.12", "--wheelhouse", str(project / ".uvci" / "d")]
    rc, out, err = prefetch(capsys, *argv, "--base", str(foreign))
    assert rc == 2 and out == ""
    assert "not a wheelhouse uvci created" in err and err.count("\n") == 1
    assert sorted(foreign.rglob("*")) == before  # nothing written or removed there
