"""The generated pipeline, run by gitlab-ci-local on a test project from a loopback index.

One module fixture generates the pipeline for a pure-Python project (the ``pure`` test project
plus ``srconly``, a dependency with only an sdist, and built by ``tinybackend``, a build backend
served by the index), on two Pythons, and runs it six times:
cold, warm, with a corrupted wheel in the cache, as a scheduled pipeline (which repairs it),
after bumping one package in uv.lock, and with a test that fails on one Python. Every request
the jobs make is counted at the index, which also serves the freshly built uvci wheel and its
runtime dependencies (the jobs run ``uvx --from uvci==VERSION uvci prefetch``). The tests below
only read the recorded runs.

gitlab-ci-local differs from GitLab in two ways that matter here: it ignores ``fallback_keys``
(emulated in ``_bump_gamma``), and it saves a cache by rsync-ing into the existing directory
instead of replacing the archive (the harness replaces it afterwards, see pipeline_harness).

``rules:changes`` are evaluated, not forced true: each run compares with the commit of the
previous run, as a push pipeline compares with the previous push (see pipeline_harness). So
``uvci-prefetch`` runs cold (new branch), on the schedule and after the bump, and is left out
of the warm, corrupted and failing-test pipelines.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import (
    Harness,
    Run,
    files_key,
    generate,
    gitlab_ci_local,
    index_with_uvci,
    real_uv_dir,
    skip_reason,
)
from tests.support.dists import BACKEND_SOURCE, build_wheel
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex
from tests.support.pythons import find_pythons
from tests.support.universe import Release, build_release
from uvci import __version__
from uvci.plan import make_plan
from uvci.uvproc import run_uv

pytestmark = pytest.mark.slow

PYTHONS = ("3.10", "3.12")  # 3.10 also installs `backport`: the cells differ
TEST_COMMAND = "python -m unittest discover -s tests -v"
IN_TREE_BACKEND = 'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]'
INDEX_BACKEND = 'requires = ["tinybackend>=1"]\nbuild-backend = "tinybackend"'
BACKEND_WHEEL = "tinybackend-1.0-py3-none-any.whl"
FAILING_TEST = """
import sys
import unittest


class VersionTest(unittest.TestCase):
    def test_fails_on_312(self) -> None:
        self.assertLess(sys.version_info[:2], (3, 12), "made to fail on 3.12")
"""


@dataclass(frozen=True)
class Runs:
    cold: Run
    warm: Run
    corrupt: Run
    schedule: Run
    bump: Run
    failing: Run
    planned: frozenset[str]  # the files the two cells install, from the plan (before the bump)
    corrupted: str
    fallback_restored: bool
    junit_reports: tuple[Path, ...]  # of the failing run, one per cell


def _project(root: Path, index: LoopbackIndex, index_dir: Path, uv_cache: Path) -> Path:
    """``pure`` + an sdist-only dependency, built by a backend that comes from the index."""
    project = copy_project("pure", root / "project", index.url)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert IN_TREE_BACKEND in text
    text = text.replace('["alpha>=1.1"]', '["alpha>=1.1", "srconly>=1"]')
    pyproject.write_text(text.replace(IN_TREE_BACKEND, INDEX_BACKEND), encoding="utf-8")
    build_wheel(index_dir, "tinybackend", "1.0", module_source=BACKEND_SOURCE)
    lock(project, hermetic_env(uv_cache))
    generate(project, uv_cache, "--python", ",".join(PYTHONS), "--test-command", TEST_COMMAND)
    return project


def _corrupt_one(harness: Harness, shared_key: str) -> str:
    wheel = sorted((harness.cache / shared_key / ".uvci" / "wheels").glob("alpha-*.whl"))[0]
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    return wheel.name


def _bump_gamma(harness: Harness, index_dir: Path, uv_cache: Path) -> bool:
    build_release(index_dir, Release("gamma", "1.2", requires_dist=()))
    rc, _out, err = run_uv(["lock", "--upgrade-package", "gamma"], cwd=harness.project,
                          env=hermetic_env(uv_cache), timeout=120)  # fmt: skip
    assert rc == 0, err
    harness.commit("bump gamma")
    # gitlab-ci-local ignores fallback_keys: restore the fallback as GitLab would, when the
    # exact key (the new uv.lock) is missing. The key names are the ones the YAML declares.
    exact = files_key(0, "uvci-wheels", harness.project / "uv.lock")
    return harness.emulate_fallback(exact, "uvci-wheels-latest")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    pythons = {k: v for k, v in find_pythons().items() if k in PYTHONS}
    reason = skip_reason(pythons, PYTHONS)
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("pipeline")
    index_dir = index_with_uvci(root / "index")
    with LoopbackIndex(index_dir) as index:
        project = _project(root, index, index_dir, root / "uv-cache")
        planned = make_plan(project, python=PYTHONS, check_lock=False)
        files = frozenset(
            p.file for c in planned.cells for p in c.packages if p.downloads and p.file
        )
        harness = Harness(project, index, pythons, gitlab_ci_local(), root / "host-cache",
                          real_uv_dir())  # type: ignore[arg-type]  # fmt: skip
        harness.init_repo()
        harness.commit("project with the generated pipeline")
        cold, warm = harness.run(), harness.run()
        shared_key = files_key(0, "uvci-wheels", project / "uv.lock")
        corrupted = _corrupt_one(harness, shared_key)
        corrupt = harness.run()
        schedule = harness.run("CI_PIPELINE_SOURCE=schedule")
        restored = _bump_gamma(harness, index_dir, root / "uv-cache")
        bump = harness.run()
        (project / "tests" / "test_version.py").write_text(FAILING_TEST, encoding="utf-8")
        harness.commit("a test that fails on 3.12")
        failing = harness.run()
        reports = tuple(sorted(project.glob(".gitlab-ci-local/builds/uvci-test*/.uvci/junit.xml")))
        yield Runs(
            cold, warm, corrupt, schedule, bump, failing, files, corrupted, restored, reports
        )


def test_cold_every_cell_passes_and_each_file_is_fetched_once(runs: Runs) -> None:
    cold = runs.cold
    assert cold.rc == 0, cold.output
    assert sorted(cold.passed()) == sorted(
        ["uvci-prefetch", "uvci-build", *(f"uvci-test: [{p}]" for p in PYTHONS)]
    ), cold.output
    assert cold.project_files() == dict.fromkeys([*runs.planned, BACKEND_WHEEL], 1)
    assert "srconly-1.0.tar.gz" in runs.planned  # the sdist-only dependency
    tool = cold.tool_files()
    assert {f for f in tool if f.startswith("uvci-")} == {f"uvci-{__version__}-py3-none-any.whl"}
    assert set(tool.values()) == {1}  # uvci and its dependencies: once, by the prefetch job


def test_cold_builds_the_sdist_once_and_saves_the_caches(runs: Runs) -> None:
    prefetch = runs.cold.log("uvci-prefetch")
    assert "built 1 " in prefetch, prefetch
    assert "wheelhouse changed: saving it" in prefetch
    saved = {path.split("/")[0] for path in runs.cold.cache_after}
    assert {"0_uvci-wheels-", "uvci-wheels-latest"} <= {
        k if not k.startswith("0_uvci-wheels-") else "0_uvci-wheels-" for k in saved
    }, saved
    assert any(k.startswith("uvci-tool-") for k in saved), saved


def test_warm_no_request_reaches_the_index_and_no_cache_is_saved(runs: Runs) -> None:
    warm = runs.warm
    assert warm.rc == 0, warm.output
    assert not warm.ran("uvci-prefetch")  # uv.lock, pyproject.toml, the pipeline: unchanged
    assert sorted(warm.passed()) == sorted(
        ["uvci-build", *(f"uvci-test: [{p}]" for p in PYTHONS)]
    ), warm.output
    assert warm.requests == (), [r.path for r in warm.requests]
    assert warm.cache_after == warm.cache_before  # same files, sizes and mtimes: nothing saved
    cells = warm.log("uvci-test")
    assert "fetching this cell's files" not in cells  # the lock stamp held: no uvci, no request
    assert "install from the restored wheelhouse failed" not in cells
    assert cells.count("+ srconly==1.0") == len(PYTHONS)  # the built wheel, from the cache
    assert "built with the build backend from the restored uv cache" in warm.log("uvci-build")


def test_corrupted_wheel_in_the_cache_is_caught_by_each_cell_then_repaired_on_schedule(
    runs: Runs,
) -> None:
    run = runs.corrupt
    assert run.rc == 0, run.output
    assert not run.ran("uvci-prefetch")  # nothing changed: only the cells can catch it
    cells = run.log("uvci-test")
    # uv's own hash check fails the install; the cell re-checks its files and installs again
    assert cells.count("install from the restored wheelhouse failed") == len(PYTHONS), cells
    assert run.project_files() == {runs.corrupted: len(PYTHONS)}  # each cell, its own copy
    assert run.cache_after == run.cache_before  # cells are pull-only: the cache stays as it was
    schedule = runs.schedule
    assert schedule.rc == 0, schedule.output
    assert schedule.ran("uvci-prefetch")  # a schedule always runs it
    assert schedule.file_requests() == {runs.corrupted: 1}  # found by prefetch's hash check
    assert "wheelhouse changed: saving it" in schedule.log("uvci-prefetch")
    assert "fetching this cell's files" not in schedule.log("uvci-test")
    assert "install from the restored wheelhouse failed" not in schedule.log("uvci-test")


def test_bumped_lock_fetches_only_the_bumped_package(runs: Runs) -> None:
    run = runs.bump
    assert runs.fallback_restored  # the new key was missing; the "latest" fallback existed
    assert run.rc == 0, run.output
    assert run.ran("uvci-prefetch")  # uv.lock changed since the previous push
    assert run.project_files() == {"gamma-1.2-py3-none-any.whl": 1}
    assert run.tool_files() == {}
    assert run.log("uvci-test").count("+ gamma==1.2") == len(PYTHONS)  # every cell got it


def test_a_failing_cell_fails_the_pipeline(runs: Runs) -> None:
    run = runs.failing
    assert run.rc != 0
    assert [f for f in run.failed() if f.startswith("uvci-test")] == ["uvci-test: [3.12]"]
    assert "uvci-test: [3.10]" in run.passed()
    assert run.requests == ()
    assert run.cache_after == run.cache_before  # after the bump's save, unchanged again
    assert not run.ran("uvci-prefetch")  # only a test changed
    reports = {p.parent.parent.name: ET.parse(p).getroot() for p in runs.junit_reports}
    failures = sorted(int(r.find("testsuite").get("failures")) for r in reports.values())  # type: ignore[union-attr,arg-type]
    assert failures == [0, 1], reports  # the JUnit report of each cell says which one failed
