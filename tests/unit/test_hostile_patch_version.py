"""Issue 10, the plan at the right patch version: a lock with ``python_full_version`` markers is
planned at the Python each cell really runs, checked against real ``uv sync`` on the installed
3.11 (whatever its patch release)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.projects import index_table, lock, sync
from tests.support.pyindex import LoopbackIndex
from tests.support.venvs import installed_versions
from uvci.cli import main
from uvci.model.patchlevels import LATEST_PATCH, full_version
from uvci.planning import make_plan

REPO = Path(__file__).resolve().parents[2]
# uv's own examples of patch-level markers: `<= '3.11'` is only 3.11.0, `< '3.11.10'` splits
# the 3.11 series between the installed interpreter (3.11.7 here) and the latest release.
PYPROJECT = """\
[project]
name = "patchy"
version = "0.1"
requires-python = ">=3.10"
dependencies = [
  "backport; python_full_version <= '3.11'",
  "tomlish; python_full_version >= '3.11.1' and python_full_version < '3.11.10'",
  "tint; python_full_version >= '3.11.10'",
  "gamma",
]

[tool.uv]
package = false
"""


@pytest.fixture
def patchy(tmp_path: Path, index: LoopbackIndex, uv_env: dict[str, str]) -> Path:
    project = tmp_path / "patchy"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT + index_table(index.url))
    lock(project, uv_env)
    assert "python_full_version" in (project / "uv.lock").read_text()
    return project


def planned(project: Path, interpreters: dict[str, str] | None = None) -> set[str]:
    plan = make_plan(project, python=["3.11"], interpreters=interpreters)
    return {p.name for p in plan.cells[0].packages}


def test_full_version_table() -> None:
    assert full_version("3.11") == LATEST_PATCH["3.11"] != "3.11.0"
    assert full_version("3.11", {"3.11": "3.11.7"}) == "3.11.7"
    assert full_version("3.11", {"3.12": "3.12.1"}) == LATEST_PATCH["3.11"]
    assert full_version("3.11.4") == "3.11.4"
    assert full_version("3.99") == "3.99.0"


def test_plan_at_the_installed_interpreter_matches_uv_sync(
    patchy: Path, pythons: dict[str, Path], uv_env: dict[str, str]
) -> None:
    if "3.11" not in pythons:
        pytest.skip("Python 3.11 is not installed")
    interpreter = pythons["3.11"]
    version = subprocess.run(
        [str(interpreter), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    synced = set(installed_versions(sync(patchy, interpreter, uv_env))) - {"patchy"}
    assert planned(patchy, {"3.11": version}) == synced
    assert "backport" not in synced  # what the 3.11.0 plan used to list


def test_plan_without_an_interpreter_is_at_the_latest_patch(
    patchy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert planned(patchy) == {"gamma", "tint"}  # 3.11.18: neither backport nor tomlish
    assert main(["plan", str(patchy), "--python", "3.11", "--json"]) == 0
    cell = json.loads(capsys.readouterr().out)["cells"][0]
    assert cell["python_full_version"] == LATEST_PATCH["3.11"]
    assert {p["name"] for p in cell["packages"]} == {"gamma", "tint"}


def test_prefetch_in_the_cells_own_python_uses_its_version(
    patchy: Path, pythons: dict[str, Path], uv_env: dict[str, str], tmp_path: Path
) -> None:
    """`uvci prefetch --cell 3.11` run by 3.11 itself (as a generated cell job runs it)."""
    venv = REPO / ".venvs" / "3.11"
    if not (venv / "bin" / "python").exists():
        pytest.skip("no .venvs/3.11 (made by scripts/test)")
    wheelhouse = tmp_path / "wh"
    argv = [str(venv / "bin" / "python"), "-m", "uvci", "prefetch", str(patchy)]
    argv += ["--python", "3.11", "--cell", "3.11", "--wheelhouse", str(wheelhouse)]
    done = subprocess.run(argv, env=uv_env, text=True,
                          capture_output=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = (wheelhouse / "requirements-3.11.txt").read_text()
    assert "tomlish==" in listed and "tint==" not in listed and "backport==" not in listed
