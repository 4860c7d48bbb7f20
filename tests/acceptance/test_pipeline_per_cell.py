"""The per-cell layout under gitlab-ci-local: one prefetch job and one wheelhouse per Python.

The ``compiled`` test project (one wheel per CPython for ``fastcalc``, abi3 wheels for
``stablecalc``) with ``--layout per-cell --project-wheel per-cell``: each Python's prefetch job
fills its own cache (keys ``uvci-wheels-py$PYTHON-...``), each cell pulls its own and builds
the project with its own interpreter. Run cold, then warm (``rules:changes`` evaluated against
the previous run's commit: the prefetch jobs are left out); requests counted at the index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

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
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex
from tests.support.pythons import find_pythons
from uvci.plan import make_plan

pytestmark = pytest.mark.slow

PYTHONS = ("3.11", "3.13")
TEST_COMMAND = "python -m unittest discover -s tests -v"


@dataclass(frozen=True)
class Runs:
    cold: Run
    warm: Run
    per_cache: dict[str, int]  # file -> how many cells' wheelhouses need it (from the plan)
    keys: tuple[str, ...]  # gitlab-ci-local's directory of each cell's exact key


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    pythons = {k: v for k, v in find_pythons().items() if k in PYTHONS}
    reason = skip_reason(pythons, PYTHONS)
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("per-cell")
    index_dir = index_with_uvci(root / "index")
    with LoopbackIndex(index_dir) as index:
        project = copy_project("compiled", root / "project", index.url)
        lock(project, hermetic_env(root / "uv-cache"))
        args = ["--python", ",".join(PYTHONS), "--test-command", TEST_COMMAND]
        generate(project, root / "uv-cache", *args, "--layout", "per-cell", "--project-wheel",
                 "per-cell")  # fmt: skip
        plan = make_plan(project, python=PYTHONS, check_lock=False)
        needed = Counter(p.file for c in plan.cells for p in c.packages if p.downloads and p.file)
        harness = Harness(project, index, pythons, gitlab_ci_local(), root / "host-cache",
                          real_uv_dir())  # type: ignore[arg-type]  # fmt: skip
        harness.init_repo()
        harness.commit("compiled project with a per-cell pipeline")
        cold, warm = harness.run(), harness.run()
        keys = tuple(files_key(0, f"uvci-wheels-py{p}", project / "uv.lock") for p in PYTHONS)
        yield Runs(cold, warm, dict(needed), keys)


def test_cold_one_prefetch_per_python_each_file_once_per_cache(runs: Runs) -> None:
    cold = runs.cold
    assert cold.rc == 0, cold.output
    cells = [f"uvci-{job}: [{p}]" for job in ("prefetch", "test") for p in PYTHONS]
    assert sorted(cold.passed()) == sorted(cells), cold.output
    assert cold.project_files() == runs.per_cache
    assert any(n == 1 for n in runs.per_cache.values())  # per-CPython wheels: one cell each
    assert set(cold.tool_files().values()) == {len(PYTHONS)}  # uvci: once per prefetch job
    saved = {path.split("/")[0] for path in cold.cache_after}
    assert set(runs.keys) <= saved, saved
    assert {f"uvci-wheels-py{p}-latest" for p in PYTHONS} <= saved, saved


def test_cells_build_the_project_with_their_own_python(runs: Runs) -> None:
    log = runs.cold.log("uvci-test")
    assert log.count("+ compiled-app==0.1.0") == len(PYTHONS), log


def test_warm_per_cell_no_request_and_no_cache_saved(runs: Runs) -> None:
    warm = runs.warm
    assert warm.rc == 0, warm.output
    assert warm.requests == (), [r.path for r in warm.requests]
    assert warm.cache_after == warm.cache_before
    assert not warm.ran("uvci-prefetch")  # rules:changes: nothing it reads changed
    assert sorted(warm.passed()) == sorted(f"uvci-test: [{p}]" for p in PYTHONS), warm.output
    assert "fetching this cell's files" not in warm.log("uvci-test")  # the lock stamp held
    assert "install from the restored wheelhouse failed" not in warm.log("uvci-test")
