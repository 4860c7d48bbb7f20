"""Build wheels from the sdists in a wheelhouse with ``uv build --wheel``.

A wheel is built with the interpreter given for the cell, else with the running interpreter when
it is the cell's Python; other cells cannot build here and keep the sdist (uv builds it at install
time). A built wheel is usable by a cell when its tags are among the cell's target tags, so one
pure-Python wheel built once serves every cell.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from uvci.errors import FatalError
from uvci.uvproc import run_uv

BUILD_DIR_PREFIX = ".uvci-build-"


def running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def build_interpreter(python: str, interpreters: Mapping[str, str | Path]) -> str | None:
    """The interpreter that builds for cell ``python``, or None when none is at hand."""
    minor = ".".join(python.split(".")[:2])
    given = interpreters.get(python) or interpreters.get(minor)
    if given:
        return str(given)
    return sys.executable if minor == running_python() else None


def fits(wheel: str, priority: Mapping[Tag, int]) -> bool:
    try:
        tags = parse_wheel_filename(wheel)[3]
    except InvalidWheelFilename:
        return False
    return any(tag in priority for tag in tags)


def build_wheel(sdist: Path, interpreter: str, project_root: Path, dest_dir: Path) -> Path:
    """``uv build --wheel`` ``sdist`` with ``interpreter``; the wheel lands in ``dest_dir``.

    Runs in ``project_root`` so the project's uv settings (index, credentials) reach the build
    requirements. The wheel is built in a private temp dir and moved in whole.
    """
    with tempfile.TemporaryDirectory(prefix=BUILD_DIR_PREFIX, dir=dest_dir) as temp:
        out = Path(temp)
        rc, stdout, stderr = run_uv(
            [
                "build",
                "--wheel",
                "--no-progress",
                "--out-dir",
                str(out),
                "--python",
                interpreter,
                str(sdist.resolve()),
            ],
            cwd=project_root,
        )
        wheels = sorted(out.glob("*.whl"))
        if rc != 0 or len(wheels) != 1:
            raise FatalError(_failure(sdist, interpreter, stdout + stderr, rc))
        final = dest_dir / wheels[0].name
        shutil.move(str(wheels[0]), final)
    return final


def _failure(sdist: Path, interpreter: str, output: str, rc: int) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    tail = " | ".join(lines[-3:]) or f"exit code {rc}"
    return (
        f"{sdist.name}: `uv build --wheel` with {interpreter} failed: {tail}; build it by hand "
        "to see the full log, or add a wheel for it to the index"
    )
