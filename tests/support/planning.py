"""Checks that a plan's cell is exactly what uv installed into a venv (used by acceptance tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import packaging
from packaging.utils import parse_wheel_filename

from tests.support.venvs import installed
from uvci.model.plan import Cell


def interpreter_tags(python: Path) -> set[str]:
    """The tags ``python`` supports, computed by that interpreter itself (packaging on its path)."""
    code = "import json, packaging.tags as t; print(json.dumps([str(x) for x in t.sys_tags()]))"
    env = {"PYTHONPATH": str(Path(packaging.__file__).parent.parent)}
    out = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout))


def full_version(python: Path) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()


def assert_cell_is_what_uv_installed(cell: Cell, venv: Path, python: Path) -> None:
    got = installed(venv)
    planned = {p.name: p for p in cell.packages}
    assert {n: i.version for n, i in got.items()} == {n: p.version for n, p in planned.items()}
    supported = interpreter_tags(python)
    for name, pkg in planned.items():
        assert got[name].local == (pkg.kind == "local"), name
        if pkg.kind == "wheel":
            assert pkg.file is not None
            file_tags = {str(t) for t in parse_wheel_filename(pkg.file)[3]}
            assert file_tags & supported, f"{pkg.file} does not fit {python}"
            assert set(got[name].tags) == file_tags, f"uv installed another file for {name}"
