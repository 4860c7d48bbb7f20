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

from tests.acceptance.pipeline_harness import (
    REPO,
    Harness,
    generate,
    gitlab_ci_local,
    index_with_uvci,
    real_uv_dir,
)
from tests.support.images import Images
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex

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


def test_a_hatch_vcs_project_builds_and_passes_without_git(
    tmp_path: Path, container_images: Images
) -> None:
    tool = gitlab_ci_local()
    missing = [p for p in PYTHONS if p not in container_images.python]
    if tool is None or missing or not any(BUILD_WHEELS.glob("hatch_vcs-*.whl")):
        pytest.skip("needs gitlab-ci-local, CPython 3.11 and 3.13, and .tools/build-wheels")
    index_dir = index_with_uvci(tmp_path / "index")
    for wheel in BUILD_WHEELS.glob("*.whl"):
        shutil.copy2(wheel, index_dir / wheel.name)
    with LoopbackIndex(index_dir) as index:
        project = copy_project("pure", tmp_path / "project", index.url)
        _git_versioned(project)
        uv_dir = real_uv_dir() or Path("/usr/local/bin")
        harness = Harness(project, index, {}, tool, tmp_path / "host-cache", uv_dir,
                          images=container_images)  # fmt: skip
        harness.init_repo()
        lock(project, hermetic_env(tmp_path / "uv-cache"))
        command = f"{SHOW_VERSION} && python -m unittest discover -s tests"
        args = ["--python", ",".join(PYTHONS), "--test-command", command]
        generate(project, tmp_path / "uv-cache", *args)
        assert "hatch-vcs" in (project / ".gitlab" / "ci" / "uvci-build" / "uv.lock").read_text()
        harness.commit("a git-versioned project")
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
