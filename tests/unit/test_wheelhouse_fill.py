"""fill_wheelhouse against the loopback index: cold, warm, lock bump, corruption, faults, builds."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from tests.support.pythons import host_glibc
from tests.support.universe import Release, build_release
from uvci.errors import FatalError
from uvci.model.plan import Plan
from uvci.model.platforms import host_platform
from uvci.planning import make_plan
from uvci.util.atomicfile import keep_out_of_git
from uvci.util.uvproc import cmd_output, run_uv, uv_executable
from uvci.wheelhouse.fill import PrefetchResult, fill_wheelhouse, requirements_path
from uvci.wheelhouse.retention import Retain, parse_retain, retained
from uvci.wheelhouse.sdists import running_python

MakeIndex = Callable[..., LoopbackIndex]
PURE_310 = {
    "alpha-1.1-py3-none-any.whl",
    "beta-2.0-py3-none-any.whl",
    "gamma-1.1-py3-none-any.whl",
    "backport-1.0-py3-none-any.whl",
}


def plan_of(project: Path, *pythons: str) -> Plan:
    return make_plan(project, python=list(pythons) or None, platform=host_platform())


def dists(wheelhouse: Path) -> set[str]:
    return {p.name for p in wheelhouse.iterdir() if p.name.endswith((".whl", ".tar.gz"))}


def fill(project: Path, *pythons: str, **kwargs: object) -> PrefetchResult:
    return fill_wheelhouse(plan_of(project, *pythons), project / ".uvci" / "wheels", **kwargs)  # type: ignore[arg-type]


def test_cold_fill_fetches_each_needed_file_once(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    index.reset()
    result = fill(project, "3.10", "3.12")
    assert dists(result.wheelhouse) == PURE_310
    assert index.file_requests() == {name: 1 for name in PURE_310}
    assert (result.fetched.files, result.reused.files, result.removed.files) == (4, 0, 0)
    assert result.fetched.bytes == sum((result.wheelhouse / n).stat().st_size for n in PURE_310)
    assert result.changed
    for name in PURE_310:
        data = (result.wheelhouse / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() in (project / "uv.lock").read_text()
    manifest = json.loads((result.wheelhouse / "manifest.json").read_text())
    assert set(manifest["files"]) == PURE_310
    assert manifest["cells"]["3.10"]["local"] == ["pure-app"]
    assert "backport==1.0" in requirements_path(result.wheelhouse, "3.10").read_text()
    assert "backport" not in requirements_path(result.wheelhouse, "3.12").read_text()


def test_warm_run_sends_no_request_and_changes_nothing(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("compiled")
    first = fill(project, "3.10", "3.13")
    before = {p.name: p.stat().st_mtime_ns for p in first.wheelhouse.iterdir()}
    index.reset()
    second = fill(project, "3.10", "3.13")
    assert index.requests == []
    assert not second.changed
    assert (second.fetched.files, second.reused.files) == (0, first.fetched.files)
    assert second.reused.bytes == first.fetched.bytes
    assert {p.name: p.stat().st_mtime_ns for p in second.wheelhouse.iterdir()} == before


def test_lock_bump_fetches_only_the_new_file_and_removes_the_old(
    locked_project: LockedProject, make_index: MakeIndex, uv_env: dict[str, str]
) -> None:
    index = make_index()
    project = locked_project("pure", index=index)
    fill(project, "3.11")
    build_release(index.catalog.directory, Release("gamma", "1.2"))
    rc, _, err = run_uv(["lock", "--upgrade-package", "gamma"], cwd=project, env=uv_env)
    assert rc == 0, err
    index.reset()
    result = fill(project, "3.11")
    assert index.file_requests() == {"gamma-1.2-py3-none-any.whl": 1}
    assert (result.fetched.files, result.reused.files, result.removed.files) == (1, 2, 1)
    assert "gamma-1.1-py3-none-any.whl" not in dists(result.wheelhouse)
    assert "gamma==1.2" in requirements_path(result.wheelhouse, "3.11").read_text()
    assert result.changed


def test_retain_keeps_the_previous_locks_files_so_a_b_a_fetches_nothing(
    locked_project: LockedProject, make_index: MakeIndex, uv_env: dict[str, str]
) -> None:
    index = make_index()
    project = locked_project("pure", index=index)
    lock_a = (project / "uv.lock").read_text()
    fill(project, "3.11", retain=parse_retain("2x"))
    build_release(index.catalog.directory, Release("gamma", "1.2"))
    rc, _, err = run_uv(["lock", "--upgrade-package", "gamma"], cwd=project, env=uv_env)
    assert rc == 0, err
    lock_b = (project / "uv.lock").read_text()
    index.reset()
    b = fill(project, "3.11", retain=parse_retain("2x"))
    assert index.file_requests() == {"gamma-1.2-py3-none-any.whl": 1}
    assert b.removed.files == 0  # lock A's gamma 1.1 stays, within twice the cell's bytes
    assert {"gamma-1.1-py3-none-any.whl", "gamma-1.2-py3-none-any.whl"} <= dists(b.wheelhouse)
    (project / "uv.lock").write_text(lock_a)
    index.reset()
    a = fill(project, "3.11", retain=parse_retain("2x"))
    assert index.file_requests() == {} and a.fetched.files == 0
    (project / "uv.lock").write_text(lock_b)
    tight = fill(project, "3.11", retain=parse_retain("1x"))  # no room: the old file goes
    assert tight.removed.files == 1 and "gamma-1.1-py3-none-any.whl" not in dists(b.wheelhouse)


def test_retain_drops_the_least_recently_used_first() -> None:
    present = {"old.whl": 10, "older.whl": 10, "now.whl": 10, "stray.whl": 1}
    used = {"old.whl": 2, "older.whl": 1, "now.whl": 3}
    assert retained(present, {"now.whl"}, used, budget=20) == {"old.whl"}
    assert retained(present, {"now.whl"}, used, budget=30) == {"old.whl", "older.whl"}
    assert retained(present, {"now.whl"}, used, budget=5) == set()  # unrecorded files never
    assert parse_retain("500MB") == Retain(size=500_000_000)
    assert parse_retain("1.5x").budget(100) == 150
    with pytest.raises(FatalError, match="--retain"):
        parse_retain("lots")


def test_the_state_dir_is_kept_out_of_git(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("no git (uv's images have none)")
    keep_out_of_git(tmp_path, tmp_path / "elsewhere")
    assert not (tmp_path / ".uvci").exists()  # a wheelhouse outside .uvci: nothing made
    keep_out_of_git(tmp_path, tmp_path / ".uvci" / "wheels")
    ignore = tmp_path / ".uvci" / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    rc, out, _ = cmd_output(["git", "init", "-q", str(tmp_path)])
    (tmp_path / ".uvci" / "wheels").mkdir()
    (tmp_path / ".uvci" / "wheels" / "big.whl").write_text("x")
    rc, out, _ = cmd_output(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path)
    assert rc == 0 and out == ""


def test_corrupted_file_is_fetched_again(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    wheelhouse = fill(project, "3.12").wheelhouse
    target = wheelhouse / "beta-2.0-py3-none-any.whl"
    good = target.read_bytes()
    target.write_bytes(good[:10] + bytes([good[10] ^ 1]) + good[11:])  # same size, bad hash
    index.reset()
    result = fill(project, "3.12")
    assert index.file_requests() == {"beta-2.0-py3-none-any.whl": 1}
    assert target.read_bytes() == good
    assert (result.fetched.files, result.reused.files) == (1, 2)
    assert result.changed


def test_truncated_file_is_fetched_again(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    wheelhouse = fill(project, "3.12").wheelhouse
    target = wheelhouse / "alpha-1.1-py3-none-any.whl"
    good = target.read_bytes()
    target.write_bytes(good[:-7])
    index.reset()
    fill(project, "3.12")
    assert index.file_requests() == {"alpha-1.1-py3-none-any.whl": 1}
    assert target.read_bytes() == good


def test_server_error_is_retried(
    locked_project: LockedProject, index: LoopbackIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    project = locked_project("pure")
    index.fail("gamma-1.1-py3-none-any.whl", status=500, times=2)
    index.fail("beta-2.0-py3-none-any.whl", status=429, times=1)
    result = fill(project, "3.12")
    assert index.file_requests()["gamma-1.1-py3-none-any.whl"] == 3
    assert index.file_requests()["beta-2.0-py3-none-any.whl"] == 2
    assert result.fetched.files == 3


def test_corrupted_download_is_retried_and_never_kept(
    locked_project: LockedProject, index: LoopbackIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    project = locked_project("pure")
    index.corrupt("gamma-1.1-py3-none-any.whl", times=1)
    result = fill(project, "3.12")
    assert index.file_requests()["gamma-1.1-py3-none-any.whl"] == 2
    data = (result.wheelhouse / "gamma-1.1-py3-none-any.whl").read_bytes()
    assert hashlib.sha256(data).hexdigest() in (project / "uv.lock").read_text()


def test_retries_exhausted_is_one_clear_error(
    locked_project: LockedProject, index: LoopbackIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("UV_HTTP_RETRIES", "2")
    project = locked_project("pure")
    index.fail("gamma-1.1-py3-none-any.whl", status=503, times=None)
    with pytest.raises(FatalError) as caught:
        fill(project, "3.12")
    message = caught.value.message
    assert "gamma-1.1-py3-none-any.whl: download failed after 3 attempts" in message
    assert f"{index.base}/files/gamma-1.1-py3-none-any.whl" in message
    assert "HTTP 503" in message
    assert index.file_requests()["gamma-1.1-py3-none-any.whl"] == 3
    wheelhouse = project / ".uvci" / "wheels"
    assert "gamma-1.1-py3-none-any.whl" not in dists(wheelhouse)
    assert not [p for p in wheelhouse.iterdir() if p.name.endswith(".part")]


def test_not_found_fails_at_once(locked_project: LockedProject, index: LoopbackIndex) -> None:
    project = locked_project("pure")
    index.fail("beta-2.0-py3-none-any.whl", status=404, times=None)
    with pytest.raises(FatalError) as caught:
        fill(project, "3.12")
    assert index.file_requests()["beta-2.0-py3-none-any.whl"] == 1
    assert caught.value.message.startswith("beta-2.0-py3-none-any.whl: HTTP 404")
    assert f"{index.base}/files/beta-2.0-py3-none-any.whl" in caught.value.message
    assert "uv lock" in caught.value.message


def sha256sum_check(wheelhouse: Path, python: str) -> int:
    """``sha256sum -c`` as a CI job runs it (busybox has no --quiet: output discarded)."""
    rc, _out, _err = cmd_output(["sha256sum", "-c", f"SHA256SUMS-{python}"], cwd=wheelhouse)
    return rc


def test_each_cell_has_a_checksum_file_for_sha256sum(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    wheelhouse = fill(project, "3.10", "3.12").wheelhouse
    sums = (wheelhouse / "SHA256SUMS-3.10").read_text().splitlines()
    assert {line.split("  ", 1)[1] for line in sums} == PURE_310 | {"requirements-3.10.txt"}
    assert "backport" not in (wheelhouse / "SHA256SUMS-3.12").read_text()
    assert sha256sum_check(wheelhouse, "3.10") == sha256sum_check(wheelhouse, "3.12") == 0
    target = wheelhouse / "beta-2.0-py3-none-any.whl"
    good = target.read_bytes()
    target.write_bytes(good[:10] + bytes([good[10] ^ 1]) + good[11:])
    assert sha256sum_check(wheelhouse, "3.12") != 0  # what a CI cell checks before installing
    assert fill(project, "3.10", "3.12", cells=["3.12"]).changed  # fetched again
    assert sha256sum_check(wheelhouse, "3.10") == sha256sum_check(wheelhouse, "3.12") == 0
    fill(project, "3.12")
    assert not (wheelhouse / "SHA256SUMS-3.10").exists()


def test_files_no_cell_needs_are_removed_and_cell_subset_keeps_others(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    wheelhouse = fill(project, "3.10", "3.12").wheelhouse
    (wheelhouse / "stale-0.1-py3-none-any.whl").write_bytes(b"old")
    (wheelhouse / ".gamma-1.1-py3-none-any.whl.x1.part").write_bytes(b"half")
    result = fill(project, "3.10", "3.12", cells=["3.12"])
    assert result.cells == ("3.12",)
    assert dists(wheelhouse) == PURE_310  # 3.10's backport stays: a cell of the plan needs it
    assert not (wheelhouse / ".gamma-1.1-py3-none-any.whl.x1.part").exists()
    assert result.removed.files == 2 and result.reused.files == 3
    assert requirements_path(wheelhouse, "3.10").is_file()  # untouched, still valid
    result = fill(project, "3.12")
    assert "backport-1.0-py3-none-any.whl" not in dists(wheelhouse)
    assert not requirements_path(wheelhouse, "3.10").exists()


def test_unknown_cell_is_a_clear_error(locked_project: LockedProject) -> None:
    project = locked_project("pure")
    with pytest.raises(FatalError, match=r"cell 3\.9 is not in the plan's matrix \(3\.12\)"):
        fill(project, "3.12", cells=["3.9"])


def test_sdist_only_is_built_by_each_fill_and_the_same_bytes_change_nothing(
    locked_project: LockedProject, index: LoopbackIndex, pythons: dict[str, Path]
) -> None:
    if "3.12" not in pythons:
        pytest.skip("Python 3.12 is not installed")
    if host_glibc() >= (2, 39):
        pytest.skip("newglibc's wheel fits this host (glibc >= 2.39): nothing to build")
    project = locked_project("sdist-only")
    interpreters = {"3.12": pythons["3.12"]}
    first = fill(project, "3.10", "3.12", interpreters=interpreters)
    built = {"srconly-1.0-py3-none-any.whl", "newglibc-2.0-py3-none-any.whl"}
    assert built <= dists(first.wheelhouse)
    assert first.built.files == 2 and first.notes == ()  # one pure wheel serves 3.10 too
    manifest = json.loads((first.wheelhouse / "manifest.json").read_text())
    srconly = manifest["files"]["srconly-1.0-py3-none-any.whl"]
    assert srconly["origin"] == "built" and srconly["sdist"] == "srconly-1.0.tar.gz"
    assert srconly["sha256"] in requirements_path(first.wheelhouse, "3.10").read_text()
    assert (
        f"{srconly['sha256']}  srconly-1.0-py3-none-any.whl"
        in (first.wheelhouse / "SHA256SUMS-3.10").read_text()
    )
    index.reset()
    second = fill(project, "3.10", "3.12", interpreters=interpreters)
    assert index.requests == []
    # nothing in a restored cache vouches for a built wheel: it is built again, and the same
    # bytes leave the earlier file (and the cache) unchanged
    assert (second.built.files, second.changed) == (2, False)
    assert second.reused.files == first.fetched.files
    (first.wheelhouse / "srconly-1.0-py3-none-any.whl").write_bytes(b"corrupted")
    third = fill(project, "3.10", "3.12", interpreters=interpreters)
    assert (third.built.files, third.changed) == (2, True)  # the corrupted one replaced
    assert (
        srconly["sha256"]
        == json.loads((first.wheelhouse / "manifest.json").read_text())["files"][
            "srconly-1.0-py3-none-any.whl"
        ]["sha256"]
    )  # the backend builds reproducibly


def _other_python(pythons: dict[str, Path]) -> str:
    others = [minor for minor in sorted(pythons) if minor != running_python()]
    if not others:
        pytest.skip("needs an installed Python other than the running one")
    return others[-1]


def test_sdist_without_an_interpreter_is_kept_with_a_note(
    locked_project: LockedProject, pythons: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project("sdist-only")
    other = _other_python(pythons)
    monkeypatch.setenv("PATH", str(Path(uv_executable()).parent))  # uv finds no Python here
    result = fill(project, other)
    assert result.built.files == 0
    assert [n for n in result.notes if n.startswith("srconly 1.0: only an sdist")] == [
        f"srconly 1.0: only an sdist, and no Python {other} found here to build it: those cells "
        "build it at install time (or pass --build-python 3.X=PATH)"
    ]
    assert {"srconly-1.0.tar.gz", "newglibc-2.0.tar.gz"} <= dists(result.wheelhouse)
    assert "srconly==1.0" in requirements_path(result.wheelhouse, other).read_text()
    assert not [p for p in result.wheelhouse.iterdir() if p.is_dir()]


def test_sdist_is_built_with_the_python_uv_finds(
    locked_project: LockedProject, pythons: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project("sdist-only")
    other = _other_python(pythons)
    path = f"{Path(uv_executable()).parent}:{pythons[other].parent}"
    monkeypatch.setenv("PATH", path)
    result = fill(project, other)
    assert (result.built.files, result.notes) == (2, ())
    assert "srconly-1.0-py3-none-any.whl" in dists(result.wheelhouse)


def test_failed_build_is_a_clear_error(locked_project: LockedProject, tmp_path: Path) -> None:
    project = locked_project("sdist-only")
    missing = tmp_path / "no-such-python"
    with pytest.raises(FatalError) as caught:
        fill(project, "3.12", interpreters={"3.12": missing})
    pattern = (
        r"(newglibc-2\.0|srconly-1\.0)\.tar\.gz: `uv build --wheel` with "
        + re.escape(str(missing))
        + r" failed: .+; build it by hand to see the full log, or add a wheel for it to the index"
    )
    assert re.fullmatch(pattern, caught.value.message), caught.value.message
    assert not [p for p in (project / ".uvci" / "wheels").iterdir() if p.is_dir()]
