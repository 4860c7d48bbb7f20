"""A cell installs offline from the wheelhouse with real uv, on every installed Python 3.10-3.13.

`fill_wheelhouse` fills one wheelhouse shared by every installed Python (building sdist-only
packages with each cell's Python); then `uv pip install --offline --no-index --find-links` with
the cell's requirements file (hashes on every line, so uv verifies each file) installs into a
fresh venv with an empty uv cache. The index must
see no request, uv must install exactly what `uv sync --locked` installs (EXPECTED_SYNC, without
the local packages) from the very files the plan chose, and the project's own tests must pass.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from tests.conftest import LockedProject
from tests.support.projects import EXPECTED_SYNC
from tests.support.pyindex import LoopbackIndex
from tests.support.venvs import installed
from uvci.model.platforms import host_platform
from uvci.planning import make_plan
from uvci.util.uvproc import run_uv
from uvci.wheelhouse.fill import fill_wheelhouse, offline_install_command

PROJECTS = ("pure", "compiled", "forked", "sdist-only", "extras-groups", "workspace")
WITH_TESTS = ("pure", "compiled")


def _venv(python: Path, where: Path, env: dict[str, str]) -> Path:
    rc, _, err = run_uv(["venv", "--quiet", "--python", str(python), str(where)], env=env)
    assert rc == 0, err
    return where / "bin" / "python"


@pytest.mark.slow
@pytest.mark.parametrize("name", PROJECTS)
def test_cell_installs_offline_from_the_wheelhouse(
    name: str,
    each_python: tuple[str, Path],
    pythons: dict[str, Path],
    locked_project: LockedProject,
    index: LoopbackIndex,
    cold_uv_env: dict[str, str],
    tmp_path: Path,
) -> None:
    minor, python = each_python
    root = locked_project(name)
    plan = make_plan(
        root, python=sorted(pythons), platform=host_platform()
    )  # one wheelhouse shared by every cell
    wheelhouse = tmp_path / "wheels"
    result = fill_wheelhouse(plan, wheelhouse, interpreters=pythons)
    assert result.notes == ()
    index.reset()
    target = _venv(python, tmp_path / "venv", cold_uv_env)
    rc, out, err = run_uv(offline_install_command(wheelhouse, minor, str(target)), env=cold_uv_env)
    assert rc == 0, out + err
    assert index.requests == []
    got = installed(tmp_path / "venv")
    expected = {n: v for n, v in EXPECTED_SYNC[name][minor].items() if v != "local"}
    assert {n: d.version for n, d in got.items()} == expected
    cell = next(c for c in plan.cells if c.python == minor)
    for package in cell.packages:
        if package.kind == "wheel":
            assert package.file is not None
            tags = {str(t) for t in parse_wheel_filename(package.file)[3]}
            assert set(got[package.name].tags) == tags, f"uv installed another file: {package}"
    if name in WITH_TESTS:
        _install_project_and_test(root, wheelhouse, target, cold_uv_env)


def _install_project_and_test(
    root: Path, wheelhouse: Path, target: Path, env: dict[str, str]
) -> None:
    args = [
        "pip",
        "install",
        "--python",
        str(target),
        "--offline",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--no-deps",
        str(root),
    ]
    rc, out, err = run_uv(args, env=env)
    assert rc == 0, out + err
    test = subprocess.run(
        [str(target), "-m", "unittest", "discover", "-s", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert test.returncode == 0, test.stdout + test.stderr
