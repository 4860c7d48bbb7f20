"""A project versioned from git (hatchling + hatch-vcs) builds and passes in the uv images,
which have no git: the generated pipeline gives setuptools-scm the version.

The real hatchling, hatch-vcs and setuptools-scm wheels (scripts/bootstrap-tools puts them in
.tools/build-wheels) are served by the loopback index; ``uvci generate`` locks them with their
hashes in .gitlab/ci/uvci-build, and each cell builds the project with them offline once its
wheelhouse holds them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import REPO, generated_in_containers
from tests.support.images import Images

pytestmark = pytest.mark.slow

PYTHONS = ("3.11", "3.13")
BUILD_WHEELS = REPO / ".tools" / "build-wheels"
IN_TREE_BACKEND = 'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]'
HATCH_VCS = (
    'requires = ["hatchling", "hatch-vcs"]\nbuild-backend = "hatchling.build"\n\n'
    '[tool.hatch.version]\nsource = "vcs"\n\n'
    '[tool.hatch.build.targets.wheel]\npackages = ["src/pure_app"]\n'
)
SHOW_VERSION = (
    "python -c \"import importlib.metadata as m; print('VERSION', m.version('pure-app'))\""
)


def _git_versioned(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").replace('version = "0.1.0"\n', "")
    text = text.replace('name = "pure-app"\n', 'name = "pure-app"\ndynamic = ["version"]\n')
    assert IN_TREE_BACKEND in text
    pyproject.write_text(text.replace(IN_TREE_BACKEND, HATCH_VCS), encoding="utf-8")


def _with_hatch_vcs(project: Path, index_dir: Path) -> None:
    for wheel in BUILD_WHEELS.glob("*.whl"):
        shutil.copy2(wheel, index_dir / wheel.name)
    _git_versioned(project)


def test_a_hatch_vcs_project_builds_and_passes_without_git(
    tmp_path: Path, container_images: Images
) -> None:
    if not any(BUILD_WHEELS.glob("hatch_vcs-*.whl")):
        pytest.skip(f"{BUILD_WHEELS} has no hatch-vcs: run scripts/bootstrap-tools")
    command = f"{SHOW_VERSION} && python -m unittest discover -s tests"
    args = ("--test-command", command)
    with generated_in_containers(tmp_path, container_images, "pure", PYTHONS, *args,
                                 prepare=_with_hatch_vcs) as harness:  # fmt: skip
        project = harness.project
        assert "hatch-vcs" in (project / ".gitlab" / "ci" / "uvci-build" / "uv.lock").read_text()
        cold = harness.run()
        assert cold.rc == 0, cold.output
        assert "hatch_vcs-0.5.0-py3-none-any.whl" in cold.project_files()
        versions = {
            line.split("> ", 1)[1] for line in cold.output.splitlines() if "> VERSION" in line
        }
        assert len(versions) == 1 and next(iter(versions)).startswith("VERSION 0.0.0+g"), versions
        warm = harness.run()
        assert warm.rc == 0, warm.output
        assert warm.requests == (), [r.path for r in warm.requests]  # the backend too, offline
