"""Issue 10, data loss: uvci removes files only from a wheelhouse it created and marked.

`--wheelhouse ""` (an unset CI variable), `.`, `/` or a directory holding other files is one
line, exit 2, and every file there is left as it was.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.tmpfs import tmpfs
from uvci.cli import main
from uvci.wheelhouse.ownership import MARKER


def prefetch(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["prefetch", *args])
    return rc, capsys.readouterr().err


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("uvci prefetch: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("given", ["", "."])
def test_empty_or_dot_wheelhouse_deletes_nothing(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: str,
) -> None:
    project = locked_project("pure")
    monkeypatch.chdir(project)
    before = listing(project)
    rc, err = prefetch(capsys, "--python", "3.12", "--wheelhouse", given)
    assert rc == 2
    line = one_error_line(err)
    assert "pass --wheelhouse a new or empty directory" in line or "empty" in line
    assert listing(project) == before  # pyproject.toml and uv.lock included
    assert not (project.parent / f"{project.name}.lock").exists()


def test_directory_with_other_files_is_refused(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--wheelhouse", str(mine))
    assert rc == 2
    assert one_error_line(err).startswith(f"uvci prefetch: error: {mine}: holds other files")
    assert listing(mine) == {"notes.txt": b"keep me"}


def test_root_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, err = prefetch(capsys, str(locked_project("pure")), "--python", "3.12", "--wheelhouse", "/")
    assert rc == 2
    assert "/: is the file-system root" in one_error_line(err)


def test_new_and_empty_directories_are_marked_and_used(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    empty = tmp_path / "empty"
    empty.mkdir()
    for wheelhouse in (tmp_path / "new" / "wheels", empty):
        rc, err = prefetch(
            capsys, str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse)
        )
        assert rc == 0, err
        assert (wheelhouse / MARKER).is_file()
        (wheelhouse / "stale-0.1-py3-none-any.whl").write_bytes(b"old")
        assert (
            prefetch(capsys, str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse))[0]
            == 0
        )
        assert not (wheelhouse / "stale-0.1-py3-none-any.whl").exists()  # ours: pruned
        assert (wheelhouse / MARKER).is_file()


def test_wheelhouse_of_an_earlier_uvci_is_adopted(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    wheelhouse = tmp_path / "old"
    wheelhouse.mkdir()
    (wheelhouse / "manifest.json").write_text(json.dumps({"format": 1, "files": {}, "cells": {}}))
    (wheelhouse / "stale-0.1-py3-none-any.whl").write_bytes(b"old")
    rc, err = prefetch(capsys, str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse))
    assert rc == 0, err
    assert (wheelhouse / MARKER).is_file()
    assert not (wheelhouse / "stale-0.1-py3-none-any.whl").exists()


@pytest.fixture
def cache_mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs that a test can remount read-only."""
    with tmpfs(tmp_path / "cache", "4m") as mount:
        yield mount


def test_read_only_complete_wheelhouse_succeeds(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], cache_mount: Path
) -> None:
    project = locked_project("pure")
    wheelhouse = cache_mount / "wheels"
    args = (str(project), "--python", "3.12", "--wheelhouse", str(wheelhouse))
    assert prefetch(capsys, *args)[0] == 0
    before = listing(wheelhouse)
    remount = ["mount", "-o", "remount,ro", str(cache_mount)]
    if subprocess.run(remount, capture_output=True).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    rc, err = prefetch(capsys, *args)
    assert rc == 0, err
    assert "Traceback" not in err and "read-only" in err
    assert listing(wheelhouse) == before
