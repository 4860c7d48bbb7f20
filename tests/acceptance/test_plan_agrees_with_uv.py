"""The plan is what uv really does: real `uv sync --locked` on every installed Python 3.10-3.13.

For each test project and selection, the distributions uv installs (names and versions) must be
exactly the plan's cell; every planned wheel must be compatible with the interpreter's tags and
be the file uv installed (the dist-info WHEEL tags tell); planned sdists are what uv built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.planning import assert_cell_is_what_uv_installed, full_version
from tests.support.projects import sync
from uvci.model.platforms import host_platform
from uvci.model.selection import Selection
from uvci.planning import make_plan

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
    plan = make_plan(
        root, python=[full_version(python)], selection=selection, platform=host_platform()
    )
    venv = sync(root, python, uv_env, ("--locked", *args), venv=tmp_path / "venv")
    assert_cell_is_what_uv_installed(plan.cells[0], venv, python)
