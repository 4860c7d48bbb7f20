"""bench/jobs.py + bench/strategies.py end to end, hermetic: real uv, real SeaweedFS, the
counting proxy in front of the loopback index (tiny wheels), two pipelines (cold, then warm).

The uvci strategy replays the generated pipeline, whose cells run ``uvx --from uvci==X``: the
proxy serves a uvci wheel built from this tree and uvci's runtime dependency wheels
(.tools/wheelhouse, from scripts/bootstrap-tools) as local wheels."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import jobs, strategies, uvci_strategy
from bench.projects import base_env, to_proxy, to_pypi, uv_env
from bench.proxy import IndexProxy, Upstream
from bench.report import merge, splice, table
from bench.scenarios import aggregate, installed_pythons, summarize
from bench.storage import CacheStore, SeaweedServer
from bench.throttle import Throttle
from bench.verdict import twenty, verdict
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex
from tests.support.seaweed import exclusive_seaweed


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with exclusive_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


TOOL_WHEELS = Path(__file__).resolve().parents[2] / ".tools" / "wheelhouse"


@pytest.fixture(scope="module")
def local_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uvci built from this tree (offline: uv_build from uv's cache) and its runtime wheels."""
    local = tmp_path_factory.mktemp("local-wheels")
    for wheel in TOOL_WHEELS.glob("*.whl"):
        if not wheel.name.startswith("uvci-"):
            shutil.copy2(wheel, local / wheel.name)
    env = {k: v for k, v in hermetic_env(local / ".unused").items() if k != "UV_CACHE_DIR"}
    try:
        uvci_strategy.build_uvci_wheel(local, env, offline=True)
    except Exception as exc:  # no uv_build in uv's cache: the uvci pipeline cannot be replayed
        pytest.skip(f"cannot build the uvci wheel offline: {exc}")
    return local


@pytest.fixture
def proxy(index: LoopbackIndex, tmp_path: Path, local_wheels: Path) -> Iterator[IndexProxy]:
    upstream = Upstream(simple=f"{index.base}/simple", files=index.base)
    with IndexProxy(tmp_path / "proxy-cache", Throttle(None), upstream, local_wheels) as started:
        yield started


def two_pipelines(
    strategy: str,
    proxy: IndexProxy,
    seaweed: SeaweedServer,
    tmp_path: Path,
    pythons: dict[str, Path],
    generate_args: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    project = copy_project("pure", tmp_path / "project", proxy.simple_url)
    lock(project, {**os.environ, "UV_CACHE_DIR": str(tmp_path / "lock-cache")})
    store = CacheStore(seaweed.endpoint, Throttle(None))
    runner = jobs.Runner(store, proxy, tmp_path / "run", f"test-{strategy}")
    env = {**base_env(), **uv_env(proxy.url)}
    matrix = dict(list(pythons.items())[:2])
    tools = uvci_strategy.Tools.prepare(tmp_path / "tools", proxy.simple_url)
    no_pytest = ("--test-command", "true")  # the test project has no pytest; no test is run
    spec = strategies.PipelineSpec(project, matrix, "zip", tools, (*no_pytest, *generate_args))
    results = []
    for _scenario in ("cold", "warm"):
        stages = strategies.build(strategy, spec)
        done = [runner.run_stage(i, st, project, env) for i, st in enumerate(stages)]
        results.append(summarize(done))
    return results


def test_no_cache_downloads_every_time(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    cold, warm = two_pipelines("none", proxy, seaweed, tmp_path, pythons)
    assert cold["index_bytes"] > 0 and warm["index_bytes"] == cold["index_bytes"]
    assert cold["cache_upload_bytes"] == warm["cache_download_bytes"] == 0
    assert cold["critical_path_seconds"] <= cold["dependency_seconds"]


def test_seed_warm_moves_nothing_from_the_index_and_uploads_nothing(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    cold, warm = two_pipelines("seed", proxy, seaweed, tmp_path, pythons)
    assert cold["index_bytes"] > 0 and cold["cache_upload_bytes"] > 0
    assert warm["index_bytes"] == 0
    assert warm["cache_upload_bytes"] == 0
    assert warm["cache_download_bytes"] == cold["cache_upload_bytes"]  # one cache per Python


def test_uv_docs_prune_ci_downloads_again_and_reuploads(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    cold, warm = two_pipelines("uv-docs", proxy, seaweed, tmp_path, pythons)
    assert warm["index_bytes"] == cold["index_bytes"] > 0  # prune --ci drops pre-built wheels
    assert warm["cache_download_bytes"] > 0
    assert warm["cache_upload_bytes"] > 0  # the pruned cache changed: uploaded again


def test_tuned_warm_restores_uvs_cache_and_the_runner_skips_the_upload(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    cold, warm = two_pipelines("tuned", proxy, seaweed, tmp_path, pythons)
    assert cold["index_bytes"] > 0 and cold["cache_upload_bytes"] > 0
    assert warm["index_bytes"] == 0  # no prune --ci: every wheel is still in uv's cache
    assert warm["cache_upload_bytes"] == 0  # uv touched nothing under the path: no upload
    assert warm["cache_download_bytes"] == cold["cache_upload_bytes"]  # one cache per Python
    assert warm["critical_path_jobs"] == 1


def test_uvci_replays_the_generated_per_cell_pipeline(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    layout = ("--layout", "per-cell")
    cold, warm = two_pipelines("uvci", proxy, seaweed, tmp_path, pythons, layout)
    assert cold["critical_path_jobs"] == warm["critical_path_jobs"] == 1  # no prefetch stage
    versions = list(pythons)[:2]
    names = [job["name"] for job in cold["jobs"]]
    assert names == [f"uvci-test: [{v}]" for v in versions], names
    assert cold["index_bytes"] > 0  # uvci (uvx) and each cell's files
    saved = [job["saved"] for job in cold["jobs"]]
    # each its own: the base, and the delta's records
    assert saved == [
        (f"uvci-v3-base-py{v}-x86_64", f"uvci-v3-delta-py{v}-x86_64") for v in versions
    ]
    assert warm["index_bytes"] == 0 and warm["cache_upload_bytes"] == 0
    assert warm["cache_download_bytes"] == cold["cache_upload_bytes"]


def test_uvci_shared_layout_has_one_writer_and_readers_that_only_pull(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path, pythons: dict[str, Path]
) -> None:
    cold, warm = two_pipelines("uvci", proxy, seaweed, tmp_path, pythons, ("--layout", "shared"))
    assert cold["critical_path_jobs"] == 1
    writer, reader = cold["jobs"]
    assert writer["name"] == "uvci-test-writer" and reader["name"].startswith("uvci-test: [")
    both = ("uvci-v3-base-all-x86_64", "uvci-v3-delta-all-x86_64")
    assert writer["saved"] == both and reader["saved"] == ()
    assert reader["index_bytes"] > 0  # same stage: the writer's upload lands after it started
    assert warm["index_bytes"] == 0 and warm["cache_upload_bytes"] == 0
    assert all(job["restored"] == both for job in warm["jobs"])


def test_lock_urls_round_trip() -> None:
    text = (
        'source = { registry = "https://pypi.org/simple" }\n'
        'wheels = [{ url = "https://files.pythonhosted.org/packages/a/b/x-1-py3-none-any.whl" }]\n'
    )
    proxied = to_proxy(text, "http://127.0.0.1:9")
    assert "http://127.0.0.1:9/simple" in proxied
    assert "http://127.0.0.1:9/files/packages/a/b/x-1-py3-none-any.whl" in proxied
    assert to_pypi(proxied, "http://127.0.0.1:9") == text


def test_critical_path_chains_stages() -> None:
    def rec(stage: int, seconds: float) -> jobs.JobRecord:
        return jobs.JobRecord("j", stage, 0.0, seconds, 0.0, 10, 0, 0, (), ())

    totals = summarize([[rec(0, 2.0)], [rec(1, 1.0), rec(1, 3.0)]])
    assert totals["critical_path_seconds"] == 5.0
    assert totals["critical_path_jobs"] == 2
    assert totals["dependency_seconds"] == 6.0
    assert totals["index_bytes"] == 30


def test_results_are_spliced_between_markers() -> None:
    doc = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n"
    out = splice(doc, "new")
    assert out == "intro\n<!-- results:start -->\nnew\n<!-- results:end -->\noutro\n"
    failure = {"strategy": "uvci", "project": "p", "profile": "fast", "scenario": "cold"}
    assert "uvci** failed" in table([], [{**failure, "error": "boom"}], 30)


def test_installed_pythons_are_3_10_and_later() -> None:
    found = installed_pythons()
    assert found and all(int(v.split(".")[1]) >= 10 for v in found)
    assert all(path.is_file() for path in found.values())


def test_repeated_runs_report_medians_and_keep_every_run() -> None:
    def run(dep: float, path: float) -> dict[str, Any]:
        return {
            "dependency_seconds": dep, "critical_path_seconds": path, "index_bytes": 7,
            "cache_upload_bytes": 0, "cache_download_bytes": 1, "jobs": [path],
        }  # fmt: skip

    record = aggregate([run(3.0, 1.0), run(9.0, 5.0), run(4.0, 2.0)])
    assert record["dependency_seconds"] == 4.0 and record["critical_path_seconds"] == 2.0
    assert record["jobs"] == [2.0]  # the jobs of the median run
    assert [r["dependency_seconds"] for r in record["runs"]] == [3.0, 9.0, 4.0]


def test_merge_replaces_only_redone_records(tmp_path: Path) -> None:
    def rec(profile: str, value: int) -> dict[str, Any]:
        ident = {"project": "p", "scenario": "cold", "strategy": "none"}
        return {**ident, "profile": profile, "index_bytes": value}

    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps([rec("fast", 1), rec("slow", 2)]))
    assert merge(path, [rec("slow", 3)]) == [rec("fast", 1), rec("slow", 3)]


def test_verdict_compares_uvci_with_the_fastest_of_the_five() -> None:
    def rec(scenario: str, strategy: str, path: float, dep: float, up: int = 0) -> dict[str, Any]:
        return {
            "project": "p", "profile": "fast", "scenario": scenario, "strategy": strategy,
            "critical_path_seconds": path, "dependency_seconds": dep, "critical_path_jobs": 1,
            "index_bytes": 0 if strategy == "uvci" else 5, "cache_upload_bytes": up,
            "jobs": [{"cache_upload_bytes": up}],
        }  # fmt: skip

    records = [
        rec("cold", "none", 2.0, 8.0), rec("cold", "uvci", 3.0, 8.3, up=100_000_000),
        rec("warm", "tuned", 2.0, 9.0), rec("warm", "uvci", 1.0, 10.0, up=2_000_000),
    ]  # fmt: skip
    rows = verdict(records, 30).splitlines()[4:]
    assert rows[0] == (
        "| p | fast | cold | 1.50 slower (3.0 s vs 2.0 s, none) "
        "| 1.03 **within 5%** (33.0 s vs 32.0 s, none) "
        "| 1.04 **within 5%** (8.3 s vs 8.0 s, none) "
        "| 1.00 **within 10%** (3.0 s vs 3.0 s) | – |"  # floor: 2.0 s + 100 MB at 100 MB/s
    )
    assert rows[1] == (
        "| p | fast | warm | **1.00** fastest (1.0 s) | **1.00** fastest (31.0 s) "
        "| 1.11 slower (10.0 s vs 9.0 s, tuned) | – | 0.0 MB, 2.0 MB |"
    )


def test_twenty_pipelines_sum_one_cold_three_bumps_sixteen_warm() -> None:
    def rec(strategy: str, scenario: str, path: float, jobs_on_path: int) -> dict[str, Any]:
        return {
            "project": "p", "profile": "fast", "scenario": scenario, "strategy": strategy,
            "critical_path_seconds": path, "dependency_seconds": 2 * path,
            "critical_path_jobs": jobs_on_path, "index_bytes": 1_000_000,
            "cache_upload_bytes": 0, "cache_download_bytes": 0,
        }  # fmt: skip

    records = [rec("uvci", s, 1.0, 1) for s in ("cold", "bump", "warm")]
    records += [rec("none", s, 0.5, 2) for s in ("cold", "bump", "warm")]
    rows = twenty(records, 30).splitlines()[4:]
    assert rows[0] == "| p | fast | none | 10.0 (1.00) | 1210.0 (1.95) | 20.0 (1.00) | 20.0 | 0.0 |"
    assert rows[1] == (
        "| p | fast | **uvci** | 20.0 (2.00) | 620.0 (1.00) | 40.0 (2.00) | 20.0 | 0.0 |"
    )


def test_each_job_starts_without_what_the_last_left_beside_the_checkout(
    proxy: IndexProxy, seaweed: SeaweedServer, tmp_path: Path
) -> None:
    """A fresh runner per job: the generated cells' work dir beside the checkout is gone too."""
    project = tmp_path / "src"
    project.mkdir()
    runner = jobs.Runner(CacheStore(seaweed.endpoint, Throttle(None)), proxy, tmp_path, "wipe")
    seen: list[bool] = []

    def script(ctx: jobs.JobContext) -> None:
        beside = ctx.workdir.with_name(ctx.workdir.name + ".uvci")
        seen.append(beside.exists())
        beside.mkdir()
        (beside / "left").write_text("by the previous job")

    job = jobs.Job("j", (), script)
    runner.run_stage(0, [job], project, {})
    runner.run_stage(0, [job], project, {})
    assert seen == [False, False]


def test_the_report_says_when_each_project_and_profile_was_measured() -> None:
    from bench.report import measured

    records = [
        {"project": "pure", "profile": "fast", "measured_at": "2026-11-30T20:27:50+00:00"},
        {"project": "pure", "profile": "runner19", "measured_at": "2026-12-08T01:44:00+00:00"},
    ]
    assert measured(records) == (
        "Measured (UTC date of each project/profile's records): pure/fast: 2026-11-30; "
        "pure/runner19: 2026-12-08."
    )
