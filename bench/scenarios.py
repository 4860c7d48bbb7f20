"""Scenarios × profiles × strategies × projects, and their records.

Scenarios run in this order in one cache namespace per strategy and round: ``cold`` (lock A,
empty storage), ``warm`` (A again), ``bump`` (lock B: one pin moved), ``alternate`` (A again
after B: two branches whose locks differ by one package, pipelines A, B, A).
"""

from __future__ import annotations

import datetime
import re
import statistics
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import strategies
from bench.archive import Format
from bench.jobs import JobRecord, Runner
from bench.projects import PROJECTS, BenchError, base_env, materialize, uv_env
from bench.proxy import IndexProxy
from bench.storage import CacheStore
from bench.throttle import MB
from bench.uvci_strategy import Tools
from uvci.gitlab.generate.pipeline import WRITER_JOB

SCENARIOS = ("cold", "warm", "bump", "alternate")
PYENV = Path("/root/.pyenv/versions")


@dataclass(frozen=True)
class Profile:
    index: float  # MB/s from the package index
    storage: float  # MB/s to and from the cache storage (one stream)
    parallel_download: float | None = None  # MB/s down for an archive over PARALLEL_OVER
    parallel_over: int = 0  # bytes: a smaller archive downloads in one stream


RUNNER_CHUNK = 16 * 1024 * 1024  # gitlab-runner's CACHE_CHUNK_SIZE default (16 MiB)
# gitlab: GitLab's runner docs put cache transfers at about 20-30 MB/s with the default
# CACHE_TRANSFER_BUFFER_SIZE of runners before 19.0; the index as fast as in `fast`.
# runner19: FF_USE_PARALLEL_CACHE_TRANSFER (runner >= 19.0) downloads an archive larger than
# one chunk with 16 concurrent ranged GETs; its MR (gitlab-org/gitlab-runner!6401) reports a
# ~5 GB cache in ~20 s instead of ~5 min: 250 MB/s down, taken from that report. Uploads stay
# one stream on the presigned path (the runner's advanced-configuration docs): 25 MB/s, as
# `gitlab`. An assumption drawn from those sources, not a measurement of a runner.
PROFILES = {
    "fast": Profile(100, 100),
    "slow": Profile(5, 100),
    "gitlab": Profile(100, 25),
    "runner19": Profile(100, 25, parallel_download=250, parallel_over=RUNNER_CHUNK),
}

Record = dict[str, Any]


def installed_pythons(limit: int = 0) -> dict[str, Path]:
    """CPython 3.10+ from pyenv's versions directories (their shims break ``uv python find``)."""
    found: dict[str, Path] = {}
    for path in sorted(PYENV.glob("3.*/bin/python")):
        match = re.fullmatch(r"(3)\.(\d+)\.\d+", path.parent.parent.name)
        if match and int(match.group(2)) >= 10:
            found.setdefault(f"3.{match.group(2)}", path)
    ordered = dict(sorted(found.items(), key=lambda kv: int(kv[0].split(".")[1])))
    if not ordered:
        raise BenchError(f"no CPython 3.10+ under {PYENV}/*/bin/python")
    return dict(list(ordered.items())[:limit]) if limit else ordered


def summarize(stages: list[list[JobRecord]]) -> Record:
    """A pipeline's totals: jobs summed; critical path: the slowest job of each stage, chained."""
    jobs = [job for stage in stages for job in stage]
    return {
        "critical_path_jobs": sum(1 for st in stages if st),
        "dependency_seconds": round(sum(j.seconds for j in jobs), 3),
        "critical_path_seconds": round(sum(max(j.seconds for j in st) for st in stages if st), 3),
        "index_bytes": sum(j.index_bytes for j in jobs),
        "cache_upload_bytes": sum(j.cache_upload_bytes for j in jobs),
        "cache_download_bytes": sum(j.cache_download_bytes for j in jobs),
        "jobs": [{**asdict(j), "seconds": round(j.seconds, 3)} for j in jobs],
    }


class Bench:
    """One benchmark run: a proxy, a cache store, a scratch dir and the matrix."""

    def __init__(
        self, proxy: IndexProxy, store: CacheStore, scratch: Path, pythons: dict[str, Path],
        cache_format: Format,
    ) -> None:  # fmt: skip
        self.proxy = proxy
        self.store = store
        self.scratch = scratch
        self.pythons = pythons
        self.cache_format = cache_format
        self.tools = Tools.prepare(scratch, f"{proxy.url}/simple")
        self.env = {**base_env(), **uv_env(proxy.url)}

    def run_all(
        self, projects: list[str], profiles: list[str], strats: list[str], scenarios: list[str],
        repeat: int = 1,
    ) -> tuple[list[Record], list[Record]]:  # fmt: skip
        records: list[Record] = []
        failures: list[Record] = []
        for name in projects:
            dirs = self._checkouts(name, bool({"bump", "alternate"} & set(scenarios)))
            for profile in profiles:
                self.proxy.throttle.rate = PROFILES[profile].index * MB
                self.store.throttle.rate = PROFILES[profile].storage * MB
                parallel = PROFILES[profile].parallel_download
                self.store.parallel.rate = parallel * MB if parallel else None
                self.store.parallel_over = PROFILES[profile].parallel_over if parallel else None
                head = {"profile": profile, "project": name}
                samples, failed = self._rounds(head, strats, dirs, scenarios, repeat)
                records += [aggregate(runs) for key, runs in samples.items() if key[1] in scenarios]
                failures += failed
        return records, failures

    def _checkouts(self, name: str, bump: bool) -> dict[str, Path]:
        """The project as locked (``cold``, ``warm``, ``alternate``) and with its bump pin moved
        (``bump``)."""
        dirs = {"cold": self.scratch / f"{name}-base"}
        materialize(PROJECTS[name], self.proxy.url, dirs["cold"])
        dirs["warm"] = dirs["alternate"] = dirs["cold"]
        if bump:
            dirs["bump"] = self.scratch / f"{name}-bump"
            materialize(PROJECTS[name], self.proxy.url, dirs["bump"], bumped=True)
        return dirs

    def _rounds(
        self, head: Record, strats: list[str], dirs: dict[str, Path], wanted: list[str],
        repeat: int,
    ) -> tuple[dict[tuple[str, str], list[Record]], list[Record]]:  # fmt: skip
        """``repeat`` rounds of the scenarios in order, every strategy's pipeline side by side.

        Each round gives every strategy a fresh cache namespace; a scenario runs all strategies
        one after another before the next scenario, so load from elsewhere hits them alike.
        A strategy that fails once gets no numbers at all.
        """
        samples: dict[tuple[str, str], list[Record]] = {}
        failed: dict[str, Record] = {}
        last = max(SCENARIOS.index(s) for s in wanted)
        for round_no in range(1, repeat + 1):
            scratch = self.scratch / "run"
            runners = {
                s: Runner(self.store, self.proxy, scratch, uuid.uuid4().hex[:8]) for s in strats
            }
            for scenario in SCENARIOS[: last + 1]:
                for strategy in [s for s in strats if s not in failed]:
                    where = {**head, "strategy": strategy, "scenario": scenario}
                    try:
                        result = self._pipeline(runners[strategy], strategy, scenario, dirs)
                    except BenchError as exc:
                        print(f"  FAILED {where}: {exc}", flush=True)
                        failed[strategy] = {**where, "error": str(exc)}
                        continue
                    now = datetime.datetime.now(datetime.timezone.utc)
                    record = {**where, **result, "measured_at": now.isoformat(timespec="seconds")}
                    print(f"{_line(record)}  (round {round_no})", flush=True)
                    samples.setdefault((strategy, scenario), []).append(record)
        kept = {key: runs for key, runs in samples.items() if key[0] not in failed}
        return kept, list(failed.values())

    def _pipeline(
        self, runner: Runner, strategy: str, scenario: str, dirs: dict[str, Path]
    ) -> Record:
        spec = strategies.PipelineSpec(dirs[scenario], self.pythons, self.cache_format, self.tools)
        stages = strategies.build(strategy, spec)
        done = [
            runner.run_stage(i, jobs, spec.project_dir, self.env) for i, jobs in enumerate(stages)
        ]
        fmt = "tarzstd" if strategy in ("uvci", "tuned") else self.cache_format
        shared = any(job.name.startswith(WRITER_JOB) for stage in stages for job in stage)
        layout = ("shared" if shared else "per-cell") if strategy == "uvci" else None
        extra = {"pythons": list(self.pythons), "cache_format": fmt, "layout": layout}
        return {**summarize(done), **extra}


def aggregate(runs: list[Record]) -> Record:
    """One record for repeated pipelines: median seconds; each run's numbers and jobs: ``runs``."""
    keys: tuple[str, ...] = ("dependency_seconds", "critical_path_seconds", "index_bytes")
    keys += ("cache_upload_bytes", "cache_download_bytes", "critical_path_jobs", "jobs")
    middle = sorted(runs, key=lambda r: r["critical_path_seconds"])[len(runs) // 2]
    return {
        **middle,
        "dependency_seconds": round(statistics.median(r["dependency_seconds"] for r in runs), 3),
        "critical_path_seconds": round(
            statistics.median(r["critical_path_seconds"] for r in runs), 3
        ),
        "runs": [{k: r[k] for k in keys if k in r} for r in runs],
    }


def _line(r: Record) -> str:
    return (
        f"  {r['project']:8} {r['profile']:6} {r['strategy']:7} {r['scenario']:9} "
        f"dep {r['dependency_seconds']:7.2f}s  path {r['critical_path_seconds']:7.2f}s  "
        f"index {r['index_bytes'] / 1e6:7.1f}MB  up {r['cache_upload_bytes'] / 1e6:7.1f}MB  "
        f"down {r['cache_download_bytes'] / 1e6:7.1f}MB"
    )
