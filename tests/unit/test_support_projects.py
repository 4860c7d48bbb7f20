"""Locked test projects point at the loopback index and sync to the expected versions per Python."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.projects import EXPECTED_SYNC, PROJECT_NAMES, sync
from tests.support.pyindex import LoopbackIndex
from tests.support.pythons import host_glibc
from tests.support.universe import Release, build_release
from tests.support.venvs import installed, installed_versions
from uvci.util.uvproc import cmd_output, run_uv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

LockedProject = Callable[..., Path]


def registry_packages(lock_file: Path) -> list[dict[str, Any]]:
    doc = tomllib.loads(lock_file.read_text(encoding="utf-8"))
    return [p for p in doc["package"] if "registry" in p["source"]]


@pytest.mark.parametrize("name", PROJECT_NAMES)
def test_lock_records_loopback_files_with_size_hash_and_upload_time(
    name: str, locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project(name)
    packages = registry_packages(project / "uv.lock")
    assert packages
    for package in packages:
        assert package["source"]["registry"] == index.url
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, package["name"]
        for entry in files:
            assert entry["url"].startswith(f"{index.base}/files/")
            assert entry["hash"].startswith("sha256:") and len(entry["hash"]) == 71
            assert entry["size"] > 0
            assert str(entry["upload-time"]).startswith("2024-01-")


def test_lock_of_forked_project_forks_on_python(locked_project: LockedProject) -> None:
    doc = tomllib.loads((locked_project("forked") / "uv.lock").read_text(encoding="utf-8"))
    forky = {
        p["version"]: p.get("resolution-markers") for p in doc["package"] if p["name"] == "forky"
    }
    assert forky == {
        "1.5": ["python_full_version < '3.12'"],
        "2.1": ["python_full_version >= '3.12'"],
    }


@pytest.mark.parametrize("name", PROJECT_NAMES)
def test_sync_locked_installs_expected_versions(
    name: str,
    each_python: tuple[str, Path],
    locked_project: LockedProject,
    uv_env: dict[str, str],
) -> None:
    minor, python = each_python
    venv = sync(locked_project(name), python, uv_env)
    assert installed_versions(venv) == EXPECTED_SYNC[name][minor]


def test_platform_wheels_follow_tag_priority(
    each_python: tuple[str, Path], locked_project: LockedProject, uv_env: dict[str, str]
) -> None:
    minor, python = each_python
    cp = "cp" + minor.replace(".", "")
    got = installed(sync(locked_project("compiled"), python, uv_env))
    assert got["fastcalc"].tags == (f"{cp}-{cp}-manylinux_2_28_x86_64",)
    abi3 = (
        "cp312-abi3-manylinux_2_28_x86_64"
        if minor >= "3.12"
        else "cp310-abi3-manylinux_2_17_x86_64"
    )
    assert got["stablecalc"].tags[0] == abi3
    glibc = "2_39" if host_glibc() >= (2, 39) else "2_17"  # the newest wheel the host allows
    assert got["glibcpick"].tags == (f"py3-none-manylinux_{glibc}_x86_64",)


def test_sdist_only_dependencies_are_built(
    each_python: tuple[str, Path], locked_project: LockedProject, uv_env: dict[str, str]
) -> None:
    got = installed(sync(locked_project("sdist-only"), each_python[1], uv_env))
    assert got["srconly"].tags == ("py3-none-any",)  # built by the in-tree backend
    if host_glibc() >= (2, 39):  # e.g. in uv's trixie images
        assert got["newglibc"].tags == ("py3-none-manylinux_2_39_x86_64",)
    else:
        assert got["newglibc"].tags == ("py3-none-any",)  # 2.0's only wheel needs glibc 2.39


def test_extras_and_groups_selection(
    pythons: dict[str, Path], locked_project: LockedProject, uv_env: dict[str, str]
) -> None:
    python = pythons.get("3.12") or next(iter(pythons.values()))
    project = locked_project("extras-groups")
    everything = installed_versions(
        sync(project, python, uv_env, ("--locked", "--all-extras", "--all-groups"))
    )
    assert {"fancy", "tint", "stablecalc", "srconly", "alpha"} <= set(everything)
    bare = installed_versions(sync(project, python, uv_env, ("--locked", "--no-default-groups")))
    assert bare == {"extras-groups": "local", "gamma": "1.1"}


@pytest.mark.parametrize("name", ["pure", "forked", "compiled"])
def test_project_test_commands_pass(
    name: str, each_python: tuple[str, Path], locked_project: LockedProject, uv_env: dict[str, str]
) -> None:
    venv = sync(locked_project(name), each_python[1], uv_env)
    rc, out, err = cmd_output(
        [str(venv / "bin" / "python"), "-m", "unittest", "discover", "-s", "tests"],
        cwd=venv.parent.parent,
        env=uv_env,
    )
    assert rc == 0, out + err
    assert "OK" in err


def test_cold_sync_downloads_each_needed_file_once(
    pythons: dict[str, Path],
    locked_project: LockedProject,
    cold_uv_env: dict[str, str],
    index: LoopbackIndex,
) -> None:
    minor = "3.10" if "3.10" in pythons else next(iter(pythons))
    python = pythons[minor]
    project = locked_project("pure")
    index.reset()
    sync(project, python, cold_uv_env)
    expected = {
        "alpha-1.1-py3-none-any.whl",
        "beta-2.0-py3-none-any.whl",
        "gamma-1.1-py3-none-any.whl",
    }
    if minor == "3.10":  # by the key, not the path: /usr/local/bin/python3.10 in uv's images
        expected.add("backport-1.0-py3-none-any.whl")
    assert index.file_requests() == dict.fromkeys(expected, 1)


def test_public_index_is_unreachable(
    uv_env: dict[str, str], tmp_path: Path, index: LoopbackIndex
) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("gamma\n")
    rc, _, err = run_uv(
        ["pip", "compile", "--default-index", "https://pypi.org/simple", str(requirements)],
        env={**uv_env, "UV_HTTP_RETRIES": "0"},
        timeout=60,
    )
    assert rc != 0 and (
        "127.0.0.1:9" in err or "proxy" in err.lower() or "connect" in err.lower()
    ), err
    assert index.requests == []


def test_default_pypi_is_unreachable_without_an_index(
    uv_env: dict[str, str], tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.in"
    requirements.write_text("gamma\n")
    rc, _, err = run_uv(
        ["pip", "compile", "--no-cache", str(requirements)],
        env={**uv_env, "UV_HTTP_RETRIES": "0"},
        timeout=60,
    )
    # It fails because the request to PyPI met the dead proxy, not for some other reason.
    assert rc != 0 and "https://pypi.org/simple/gamma/" in err, err
    assert "tunnel error" in err and "Connection refused" in err, err


def test_private_index_project_syncs_under_the_session_env(
    make_index: Callable[..., LoopbackIndex],
    locked_project: LockedProject,
    pythons: dict[str, Path],
    uv_env: dict[str, str],
) -> None:
    private = make_index(extra=[Release("gamma", "1.2")])
    project = locked_project("pure", index=private)
    assert registry_packages(project / "uv.lock")[0]["source"]["registry"] == private.url
    python = pythons.get("3.13") or next(iter(pythons.values()))
    assert installed_versions(sync(project, python, uv_env))["gamma"] == "1.2"


def test_cold_lock_reads_core_metadata_not_wheels(
    make_index: Callable[..., LoopbackIndex], locked_project: LockedProject
) -> None:
    private = make_index()
    locked_project("compiled", index=private)
    paths = [r.path for r in private.requests]
    assert any(p.endswith(".whl.metadata") for p in paths)
    assert private.file_requests() == {}, "uv lock downloaded whole wheels"


def test_uv_rejects_a_corrupted_wheel(
    pythons: dict[str, Path],
    locked_project: LockedProject,
    cold_uv_env: dict[str, str],
    index: LoopbackIndex,
) -> None:
    python = pythons.get("3.12") or next(iter(pythons.values()))
    project = locked_project("pure")
    index.corrupt("gamma-1.1-py3-none-any.whl")
    with pytest.raises(AssertionError, match=r"(?i)hash"):
        sync(project, python, cold_uv_env)
    index.clear_faults()
    assert installed_versions(sync(project, python, cold_uv_env))["gamma"] == "1.1"


def test_uv_retries_a_server_error(
    pythons: dict[str, Path],
    locked_project: LockedProject,
    cold_uv_env: dict[str, str],
    index: LoopbackIndex,
) -> None:
    python = pythons.get("3.12") or next(iter(pythons.values()))
    project = locked_project("pure")
    index.fail("beta-2.0-py3-none-any.whl", status=503, times=1)
    assert installed_versions(sync(project, python, cold_uv_env))["beta"] == "2.0"
    beta = [r.status for r in index.requests if r.filename == "beta-2.0-py3-none-any.whl"]
    assert beta == [503, 200]


def test_publishing_a_release_and_relocking_bumps_only_that_package(
    make_index: Callable[..., LoopbackIndex],
    locked_project: LockedProject,
    uv_env: dict[str, str],
) -> None:
    private = make_index()
    project = locked_project("pure", index=private)
    before = {p["name"]: p["version"] for p in registry_packages(project / "uv.lock")}
    build_release(private.catalog.directory, Release("gamma", "1.2"))
    rc, _, err = run_uv(["lock", "--upgrade-package", "gamma"], cwd=project, env=uv_env)
    assert rc == 0, err
    after = {p["name"]: p["version"] for p in registry_packages(project / "uv.lock")}
    assert after == {**before, "gamma": "1.2"}
    gamma = next(p for p in registry_packages(project / "uv.lock") if p["name"] == "gamma")
    assert gamma["wheels"][0]["upload-time"] > "2025"  # published now, after the universe
