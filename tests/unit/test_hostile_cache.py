"""Issue 19: a restored wheelhouse is written by an attacker, every name, record, link and size.

Names become paths only after validation (manifest entries, a lock's ``filename``); nothing in
the cache vouches for a file (a forged "built" record, a forged ``used`` record); links,
directories, FIFOs and devices are never followed, read whole or trusted; a poisoned cache is
repaired and the cell passes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from uvci.cli import main
from uvci.util.uvproc import uv_executable
from uvci.wheelhouse.ownership import MARKER

GAMMA = "gamma-1.1-py3-none-any.whl"
SRCONLY_SDIST = "srconly-1.0.tar.gz"
SRCONLY_WHEEL = "srconly-1.0-py3-none-any.whl"


def prefetch(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["prefetch", *args])
    return rc, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("uvci prefetch: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def lock_sha(project: Path, filename: str) -> str:
    text = (project / "uv.lock").read_text()
    match = re.search(re.escape(filename) + r'", hash = "sha256:([0-9a-f]{64})"', text)
    assert match, filename
    return match.group(1)


def wheelhouse_of(project: Path) -> Path:
    return project / ".uvci" / "wheels"


def plant_manifest(wheelhouse: Path, files: dict[str, object], generation: int = 5) -> None:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    (wheelhouse / MARKER).write_text("uvci\n")
    manifest = {"format": 1, "generation": generation, "needed": "x", "files": files, "cells": {}}
    (wheelhouse / "manifest.json").write_text(json.dumps(manifest))


# -- class 1: names from the cache or the lock become paths ---------------------------------


@pytest.mark.parametrize("shape", ["../../", "ABS", "nul", "newline"])
def test_manifest_names_never_reach_outside_the_wheelhouse(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    shape: str,
) -> None:
    project = locked_project("sdist-only")
    victim = tmp_path / "victim-1.0-py3-none-any.whl"
    victim.write_bytes(b"the user's file")
    name = {
        "../../": f"../../../{victim.name}",
        "ABS": str(victim),
        "nul": f"{victim.name}\x00x.whl",
        "newline": f"x\n{victim.name}",
    }[shape]
    sdist_sha = lock_sha(project, SRCONLY_SDIST)
    record = {"sha256": "0" * 64, "size": 1, "origin": "built", "sdist_sha256": sdist_sha}
    plant_manifest(wheelhouse_of(project), {name: record})
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--no-build")
    assert rc == 0, err
    assert victim.read_bytes() == b"the user's file"
    listed = json.loads((wheelhouse_of(project) / "manifest.json").read_text())["files"]
    assert name not in listed


@pytest.mark.parametrize(
    "filename", ["../../gamma-1.1-py3-none-any.whl", "ABS", "gam\nma-1.1-py3-none-any.whl"]
)
def test_lock_filename_is_a_plain_name_or_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], filename: str
) -> None:
    project = locked_project("pure")
    if filename == "ABS":
        filename = str(project.parent / GAMMA)
    lock = project / "uv.lock"
    text = lock.read_text()
    url = re.search(r'\{ url = "[^"]*/' + re.escape(GAMMA) + '"', text)
    assert url
    given = json.dumps(filename)  # a TOML basic string: \n stays an escape
    lock.write_text(text.replace(url.group(0), f"{{ filename = {given}, {url.group(0)[2:]}"))
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = one_error_line(err)
    assert "is not a plain distribution file name" in line and "uv.lock" in line
    assert not (project / GAMMA).exists() and not (project.parent / GAMMA).exists()
    assert not (project / ".uvci" / GAMMA).exists()


# -- class 2: a record in the cache vouches for nothing --------------------------------------


def test_forged_built_record_is_never_installed(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("sdist-only")
    wheelhouse = wheelhouse_of(project)
    evil = b"PK\x03\x04 not the wheel srconly's sdist builds"
    evil_sha = hashlib.sha256(evil).hexdigest()
    record = {
        "sha256": evil_sha,
        "size": len(evil),
        "origin": "built",
        "sdist": SRCONLY_SDIST,
        "sdist_sha256": lock_sha(project, SRCONLY_SDIST),
    }
    plant_manifest(wheelhouse, {SRCONLY_WHEEL: record})
    (wheelhouse / SRCONLY_WHEEL).write_bytes(evil)
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--no-build")
    assert rc == 0, err
    for written in ("requirements-3.12.txt", "SHA256SUMS-3.12", "manifest.json"):
        assert evil_sha not in (wheelhouse / written).read_text(), written
    assert not (wheelhouse / SRCONLY_WHEEL).exists()  # uv would pick it over the sdist
    assert (wheelhouse / SRCONLY_SDIST).is_file()  # uv builds it, checked against uv.lock


def test_forged_built_record_is_rebuilt_when_building(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    pythons: dict[str, Path],
) -> None:
    if "3.12" not in pythons:
        pytest.skip("Python 3.12 is not installed")
    project = locked_project("sdist-only")
    wheelhouse = wheelhouse_of(project)
    evil = b"PK\x03\x04 not the wheel srconly's sdist builds"
    evil_sha = hashlib.sha256(evil).hexdigest()
    record = {"sha256": evil_sha, "size": len(evil), "origin": "built", "sdist": SRCONLY_SDIST}
    record["sdist_sha256"] = lock_sha(project, SRCONLY_SDIST)
    plant_manifest(wheelhouse, {SRCONLY_WHEEL: record})
    (wheelhouse / SRCONLY_WHEEL).write_bytes(evil)
    build = f"3.12={pythons['3.12']}"
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--build-python", build)
    assert rc == 0, err
    assert (wheelhouse / SRCONLY_WHEEL).read_bytes() != evil
    built_sha = hashlib.sha256((wheelhouse / SRCONLY_WHEEL).read_bytes()).hexdigest()
    requirements = (wheelhouse / "requirements-3.12.txt").read_text()
    assert evil_sha not in requirements and built_sha in requirements


def install_offline(
    project: Path, python: Path, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    venv = tmp_path / "venv"
    uv = str(uv_executable())
    subprocess.run([uv, "venv", "-q", "--python", str(python), str(venv)], check=True)
    wheelhouse = wheelhouse_of(project)
    argv = [uv, "pip", "install", "--python", str(venv / "bin" / "python"), "--offline"]
    argv += ["--no-index", "--find-links", str(wheelhouse)]
    argv += ["-r", str(wheelhouse / "requirements-3.12.txt")]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_retain_never_keeps_a_planted_wheel_uv_would_pick(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    pythons: dict[str, Path],
    tmp_path: Path,
) -> None:
    if "3.12" not in pythons:
        pytest.skip("Python 3.12 is not installed")
    project = locked_project("pure")
    wheelhouse = wheelhouse_of(project)
    planted = "gamma-1.1-cp312-cp312-manylinux_2_17_x86_64.whl"  # beats py3-none-any for uv
    record = {"sha256": "1" * 64, "size": 5, "origin": "lock", "used": 10**9}
    plant_manifest(wheelhouse, {planted: record})
    (wheelhouse / planted).write_bytes(b"bogus")
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--retain", "100x")
    assert rc == 0, err
    assert not (wheelhouse / planted).exists()
    installed = install_offline(project, pythons["3.12"], tmp_path)
    assert installed.returncode == 0, installed.stderr


@pytest.mark.parametrize("plant", ["directory", "loop", "fifo"])
def test_special_entry_under_a_needed_name_is_repaired(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], plant: str
) -> None:
    project = locked_project("pure")
    wheelhouse = wheelhouse_of(project)
    plant_manifest(wheelhouse, {})
    target = wheelhouse / GAMMA
    if plant == "directory":
        target.mkdir()
        (target / "inside.txt").write_text("x")
    elif plant == "loop":
        target.symlink_to(target)
    else:
        os.mkfifo(target)
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--retain", "2x")
    assert rc == 0, err
    assert target.is_file() and not target.is_symlink()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == lock_sha(project, GAMMA)


# -- class 4: special files and links -------------------------------------------------------


def run_prefetch_bounded(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uvci prefetch`` in a child with 1 GB of memory, 100 MB files and 60 s: what a FIFO or
    /dev/zero did to it would show as a timeout or a killed child, not a hung test."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
        resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024**2, 100 * 1024**2))

    argv = [sys.executable, "-m", "uvci", "prefetch", str(project), "--python", "3.12", *args]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, preexec_fn=limits, check=False
    )


@pytest.mark.parametrize("name", ["manifest.json", "requirements-3.12.txt"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_file_under_a_name_uvci_reads(
    locked_project: LockedProject, name: str, kind: str
) -> None:
    project = locked_project("pure")
    wheelhouse = wheelhouse_of(project)
    plant_manifest(wheelhouse, {})
    planted = wheelhouse / name
    planted.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(planted)
    else:
        planted.symlink_to("/dev/zero")
    done = run_prefetch_bounded(project)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert planted.is_file() and not planted.is_symlink()  # replaced by uvci's own file


@pytest.mark.parametrize("link", [".uvci", ".uvci/wheels"])
def test_linked_state_dir_or_wheelhouse_is_refused(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path, link: str
) -> None:
    project = locked_project("pure")
    elsewhere = tmp_path / "elsewhere"
    other = elsewhere / "wheels"
    other.mkdir(parents=True)
    (other / MARKER).write_text("uvci\n")
    (other / "theirs-1.0-py3-none-any.whl").write_bytes(b"another directory's file")
    (project / ".uvci").mkdir(exist_ok=link != ".uvci")
    if link == ".uvci":
        (project / ".uvci").rmdir()
        (project / ".uvci").symlink_to(elsewhere)
    else:
        (project / link).symlink_to(other)
    rc, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 2
    assert "is a symbolic link" in one_error_line(err)
    assert sorted(p.name for p in other.iterdir()) == [MARKER, "theirs-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["wheels"]  # no .gitignore either


def test_uvci_run_refuses_a_linked_state_dir(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".uvci").symlink_to(elsewhere)
    rc = main(["run", str(project), "--python", "3.12"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "is a symbolic link" in lines[0] and "Traceback" not in err, err
    assert list(elsewhere.iterdir()) == []


def test_a_planted_lock_file_beside_the_wheelhouse_is_not_followed(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    plant_manifest(wheelhouse_of(project), {})
    outside = tmp_path / "created-outside"
    (project / ".uvci" / "wheels.lock").symlink_to(outside)
    rc, err = prefetch(capsys, str(project), "--python", "3.12")
    assert rc == 0, err
    assert not outside.exists()
    assert (project / ".uvci" / "wheels.lock").is_file()
