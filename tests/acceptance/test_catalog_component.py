"""The catalog component, included with inputs, run in containers by gitlab-ci-local.

A test project includes ``templates/uvci/template.yml`` as GitLab's docs say to test a component
in its own project: ``component: $CI_SERVER_FQDN/<its path>/uvci@$CI_COMMIT_SHA``, with inputs
for every kind of value (the Pythons as an array, the stage, the test command, uv sync flags, the
uv of the images, the uvci spec). It runs in ``ghcr.io/astral-sh/uv:<uv>-python3.X-trixie-slim``
(built locally, pipeline_harness), as tests/acceptance/test_pipeline_cells.py runs the generated
pipeline: cold, each cell fetches its own files once; warm, nothing from the index, no upload.

The project builds with uv_build (uv's own backend: no build environment), selects a dependency
group through the ``uv-sync-flags`` input, and its locked dev group has ``pytest``: a stand-in
served by the loopback index that runs unittest and writes the JUnit report it is asked for.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import (
    REPO,
    Harness,
    Run,
    gitlab_ci_local,
    index_with_uvci,
    real_uv_dir,
)
from tests.support.dists import build_wheel
from tests.support.images import Images
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex
from uvci import __version__
from uvci.gitlab.generate.catalog import TEMPLATE
from uvci.model.selection import Selection
from uvci.planning import make_plan
from uvci.util.atomicfile import file_sha256
from uvci.util.uvproc import uv_version

pytestmark = pytest.mark.slow

PYTHONS = ("3.10", "3.12")
IN_TREE_BACKEND = 'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]'
UV_BUILD = 'requires = ["uv_build>=0.9,<0.15"]\nbuild-backend = "uv_build"'
GROUPS = '\n[dependency-groups]\ndev = ["pytest>=8"]\nchecks = ["gamma>=1"]\n'
TEST_COMMAND = "python -c 'import pytest, sys; sys.exit(pytest.main())'"
FAKE_PYTEST = '''
"""A stand-in for pytest: unittest discovery, and the JUnit report --junitxml asks for."""
import os
import sys
import unittest


def main():
    junit = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--junitxml=")]
    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.discover("tests"))
    failed = len(result.failures) + len(result.errors)
    for path in junit:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as report:
            report.write('<testsuites><testsuite name="stand-in" tests="%d" failures="%d"/>'
                         "</testsuites>\\n" % (result.testsRun, failed))
    return 1 if failed else 0
'''
SELECTED_TEST = """
import unittest

import gamma
import pure_app


class SelectedTest(unittest.TestCase):
    def test_the_group_the_input_selects_is_installed(self) -> None:
        self.assertTrue(gamma.__name__)

    def test_the_project_was_built_and_installed(self) -> None:
        self.assertIn(".uvci/venv", pure_app.__file__)
"""


SELECTED_TESTS = (
    "test_the_group_the_input_selects_is_installed",
    "test_the_project_was_built_and_installed",
)


@dataclass(frozen=True)
class Runs:
    cold: Run
    warm: Run
    planned: dict[str, frozenset[str]]
    ci_file: str


def key(python: str) -> str:
    return f"uvci-v3-base-py{python}-x86_64"


def ci_file(spec: str) -> str:
    inputs = {
        "pythons": list(PYTHONS),
        "stage": "check",
        "test-command": TEST_COMMAND,
        "uv-sync-flags": "--group checks",
        "uv-version": uv_version(),
        "uvci-spec": spec,  # the wheel the loopback index serves, pinned by its hash
    }
    lines = ["stages: [check]", "include:",
             "  - component: $CI_SERVER_FQDN/uvci-tests/project/uvci@$CI_COMMIT_SHA",
             "    inputs:"]  # fmt: skip
    lines += [f"      {name}: {json.dumps(value)}" for name, value in inputs.items()]
    return "\n".join(lines) + "\n"


def hashed_spec(index: LoopbackIndex, index_dir: Path) -> str:
    wheel = index_dir / f"uvci-{__version__}-py3-none-any.whl"
    return f"uvci @ {index.base}/files/{wheel.name}#sha256={file_sha256(wheel)}"


def _project(root: Path, index: LoopbackIndex, index_dir: Path, uv_cache: Path) -> Path:
    build_wheel(index_dir, "pytest", "8.0", module_source=FAKE_PYTEST)
    project = copy_project("pure", root / "project", index.url)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert IN_TREE_BACKEND in text
    pyproject.write_text(text.replace(IN_TREE_BACKEND, UV_BUILD) + GROUPS, encoding="utf-8")
    (project / "backend.py").unlink()
    (project / "tests" / "test_selected.py").write_text(SELECTED_TEST, encoding="utf-8")
    lock(project, hermetic_env(uv_cache))
    (project / TEMPLATE).parent.mkdir(parents=True)
    shutil.copy2(REPO / TEMPLATE, project / TEMPLATE)
    (project / ".gitlab-ci.yml").write_text(ci_file(hashed_spec(index, index_dir)), "utf-8")
    return project


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, container_images: Images) -> Iterator[Runs]:
    missing = [p for p in PYTHONS if p not in container_images.python]
    tool = gitlab_ci_local()
    if missing or tool is None:
        pytest.skip(f"needs CPython {missing} and gitlab-ci-local (scripts/bootstrap-tools)")
    root = tmp_path_factory.mktemp("component")
    index_dir = index_with_uvci(root / "index")
    with LoopbackIndex(index_dir) as index:
        uv_cache = root / "uv-cache"
        project = _project(root, index, index_dir, uv_cache)
        selection = Selection(groups=("checks",))
        plan = make_plan(project, python=PYTHONS, selection=selection, check_lock=False)
        planned = {
            c.python: frozenset(p.file for p in c.packages if p.downloads and p.file)
            for c in plan.cells
        }
        uv_dir = real_uv_dir() or Path("/usr/local/bin")
        harness = Harness(project, index, {}, tool, root / "host-cache", uv_dir,
                          images=container_images)  # fmt: skip
        harness.init_repo()
        harness.commit("a project that includes the uvci component")
        cold, warm = harness.run(), harness.run()
        yield Runs(cold, warm, planned, ci_file(hashed_spec(index, index_dir)))


def test_cold_each_cell_fetches_its_own_files_once_and_runs_the_tests(runs: Runs) -> None:
    cold = runs.cold
    assert cold.rc == 0, cold.output
    assert sorted(cold.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], cold.output
    expected: dict[str, int] = {}
    for files in runs.planned.values():
        for name in files:
            expected[name] = expected.get(name, 0) + 1
    assert "pytest-8.0-py3-none-any.whl" in expected and any("gamma" in f for f in expected)
    assert cold.project_files() == expected  # the selected group too; each file once per cell
    # the wheel the uvci-spec input names, installed by `uv pip install -r`, hash checked: per
    # cell, uv reads its metadata with a GET of its own (this index has no range requests),
    # then downloads it to install
    wheel = f"uvci-{__version__}-py3-none-any.whl"
    whole = [r for r in cold.requests if r.filename == wheel and r.method == "GET"]
    assert len(whole) == 2 * len(PYTHONS), [(r.method, r.bytes_sent) for r in whole]
    assert "pinned by its hash" not in cold.output  # the input passed the cells' check
    for python in PYTHONS:
        log = cold.cell_log(python)
        for test in SELECTED_TESTS:
            assert re.search(rf"{test} \(test_selected\.SelectedTest[.\w]*\) \.\.\. ok", log), log
        assert f"python{python}-trixie-slim" in cold.output


def test_warm_takes_nothing_from_the_index_and_uploads_nothing(runs: Runs) -> None:
    warm = runs.warm
    assert warm.rc == 0, warm.output
    assert sorted(warm.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], warm.output
    assert warm.requests == (), [r.path for r in warm.requests]
    assert warm.cache_after == warm.cache_before
    for python in PYTHONS:
        log = warm.cell_log(python)
        assert "installed offline from the restored wheelhouse" in log, log
        assert "nothing to upload" in log, log
