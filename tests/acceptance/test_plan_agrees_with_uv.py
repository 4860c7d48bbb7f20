"""The plan is what uv really does: real `uv sync --locked` on every installed Python 3.10-3.13.

For each test project and selection, the distributions uv installs (names and versions) must be
exactly the plan's cell; every planned wheel must be compatible with the interpreter's tags and
be the file uv installed (the dist-info WHEEL tags tell); planned sdists are what uv built.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import packaging
import pytest
from packaging.utils import parse_wheel_filename

from tests.support.projects import sync
from tests.support.venvs import installed
from uvci.plan import Cell, make_plan
from uvci.selection import Selection

CASES: list[tuple[str, tuple[str, ...], Selection]] = [
    ("forked", (), Selection()),
    ("extras-groups", (), Selection()),
    ("extras-groups", ("--extra", "color"), Selection(extras=("color",))),
    (
        "extras-groups",
        ("--all-extras", "--all-groups"),
        Selection(all_extras=True, all_groups=True),
    ),
    ("extras-groups", ("--no-dev",), Selection(no_dev=True)),
    ("extras-groups", ("--only-group", "docs"), Selection(only_groups=("docs",))),
    ("sdist-only", (), Selection()),
    ("workspace", (), Selection()),
    ("workspace", ("--all-packages",), Selection(all_packages=True)),
    ("compiled", (), Selection()),
    ("pure", (), Selection()),
]


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


@pytest.mark.slow
@pytest.mark.parametrize(("project", "args", "selection"), CASES, ids=lambda c: str(c))
def test_plan_matches_uv_sync(
    project: str,
    args: tuple[str, ...],
    selection: Selection,
    each_python: tuple[str, Path],
    locked_project: Callable[..., Path],
    uv_env: dict[str, str],
    tmp_path: Path,
) -> None:
    _, python = each_python
    root = locked_project(project)
    plan = make_plan(root, python=[full_version(python)], selection=selection)
    venv = sync(root, python, uv_env, ("--locked", *args), venv=tmp_path / "venv")
    assert_cell_is_what_uv_installed(plan.cells[0], venv, python)
