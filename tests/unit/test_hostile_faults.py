"""Issue 10, faults: a trickling body ends at its deadline; prefetch and plan agree on exit codes;
credentials as uv sends them (empty variables, same-host redirects); the manifest lists every
file still on disk after one cell and then another."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.faulty_index import FaultyIndex
from uvci.cli import main

GAMMA = "gamma-1.1-py3-none-any.whl"
WINDOWS = "x86_64-pc-windows-msvc"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(list(args))
    return rc, capsys.readouterr().err


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_trickling_body_ends_at_its_deadline(
    locked_project: LockedProject,
    faulty: FaultyIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = locked_project("pure", index=faulty)
    faulty.trickle(GAMMA, interval=0.5)  # one byte every half second: no read ever times out
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("UVCI_HTTP_MIN_RATE", "100000")  # a ~1 KB wheel: deadline ~1.01 s
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"uvci prefetch: error: {GAMMA}: download failed after 1 attempts")
    assert "below UVCI_HTTP_MIN_RATE=100000 bytes/s" in line
    assert "lower UVCI_HTTP_MIN_RATE (0: no deadline)" in line
    assert not (project / ".uvci" / "wheels" / GAMMA).exists()


def test_prefetch_exits_1_where_plan_does(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = str(locked_project("compiled"))
    args = (project, "--python", "3.12", "--platform", WINDOWS)
    plan_rc, plan_err = run(capsys, "plan", *args)
    rc, err = run(capsys, "prefetch", *args)
    assert plan_rc == rc == 1
    said = plan_err.strip().splitlines()[-1].removeprefix("uvci plan: ")
    assert said.startswith("no locked file fits") and "glibcpick" in said
    assert err.strip().splitlines()[-1] == f"uvci prefetch: {said}"


def test_empty_index_variables_fall_back_to_netrc(
    locked_project: LockedProject,
    faulty: FaultyIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    project = locked_project("pure", index=faulty)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password netrc-pw-7\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("UV_INDEX_LOOPBACK_USERNAME", "")  # an unset CI variable
    monkeypatch.setenv("UV_INDEX_LOOPBACK_PASSWORD", "")
    faulty.authorizations.clear()
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 0, err
    sent = {auth for path, auth in faulty.authorizations if path.startswith("/files/")}
    assert sent == {basic("bob", "netrc-pw-7")}


def test_same_host_redirect_keeps_the_credentials(
    locked_project: LockedProject,
    faulty: FaultyIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = locked_project("pure", index=faulty)
    monkeypatch.setenv("UV_INDEX_LOOPBACK_USERNAME", "alice")
    monkeypatch.setenv("UV_INDEX_LOOPBACK_PASSWORD", "pw-1")
    faulty.redirect(GAMMA, f"/moved/{GAMMA}", status=307)
    faulty.authorizations.clear()
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 0, err
    moved = [auth for path, auth in faulty.authorizations if path == f"/moved/{GAMMA}"]
    assert moved == [basic("alice", "pw-1")]  # as uv: same host and port keep Authorization


def test_manifest_lists_every_file_on_disk_after_two_cells(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("compiled")
    wheelhouse = project / ".uvci" / "wheels"
    for cell in ("3.11", "3.12"):
        rc, err = run(capsys, "prefetch", str(project), "--python", "3.11,3.12", "--cell", cell)
        assert rc == 0, err
    listed = set(json.loads((wheelhouse / "manifest.json").read_text())["files"])
    on_disk = {p.name for p in wheelhouse.iterdir() if p.name.endswith((".whl", ".tar.gz"))}
    assert any("cp311" in name for name in on_disk)
    assert listed == on_disk
