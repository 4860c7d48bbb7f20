"""Opt-in: the shipped example, planned and then synced from the real package index.

Skipped unless UVCI_NETWORK_TESTS=1 (CI has no network for tests; `.ci/run` leaves it unset).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.planning import assert_cell_is_what_uv_installed, full_version
from uvci.model.platforms import host_platform
from uvci.planning import make_plan
from uvci.util.uvproc import run_uv

EXAMPLE = Path(__file__).parents[2] / "examples" / "matrix-demo"

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        os.environ.get("UVCI_NETWORK_TESTS") != "1", reason="set UVCI_NETWORK_TESTS=1 to run"
    ),
]


def test_example_plan_matches_uv_sync_from_the_real_index(
    each_python: tuple[str, Path], tmp_path: Path
) -> None:
    _, python = each_python
    project = tmp_path / "demo"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".venv", ".uvci"))
    plan = make_plan(project, python=[full_version(python)], platform=host_platform())
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    rc, out, err = run_uv(["sync", "--locked", "--python", str(python)], cwd=project, env=env)
    assert rc == 0, out + err
    assert_cell_is_what_uv_installed(plan.cells[0], tmp_path / "venv", python)
