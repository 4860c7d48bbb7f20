"""What the numbers say about uvci, computed from the records (never written by hand).

- :func:`verdict`: per project × profile × scenario, uvci's critical path and dependency
  seconds as ratios to the lowest of the five strategies (also with a start-up cost per job on
  the critical path), the warm pipeline's bytes, and the cold pipeline against the floor of
  filling a cache: the no-cache pipeline plus one cell's own upload at the cache's rate.
- :func:`twenty`: a run of 20 pipelines (1 cold, 3 bumps, 16 warm) summed per strategy.
- :func:`can_pay`: the profiles whose index is at least as fast as the cache storage.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.scenarios import PROFILES, SCENARIOS, Record
from bench.strategies import STRATEGIES

TOLERANCE = 0.05  # "within 5% of the fastest"
SLACK = 0.1  # ... or within 0.1 s
COLD_TOLERANCE = 0.10  # cold: within 10% of the floor of filling a cache
RUN = (("cold", 1), ("bump", 3), ("warm", 16))  # the 20 pipelines


def jobs_on_path(r: Record) -> int:
    return int(r.get("critical_path_jobs", 1))


def path_with_start(r: Record, job_start: float) -> float:
    """The critical path plus ``job_start`` seconds for each job on it."""
    return float(r["critical_path_seconds"]) + job_start * jobs_on_path(r)


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f}"


def _groups(records: list[Record]) -> dict[tuple[str, str, str], list[Record]]:
    out: dict[tuple[str, str, str], list[Record]] = {}
    for r in records:
        out.setdefault((r["project"], r["profile"], r["scenario"]), []).append(r)
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                    SCENARIOS.index(kv[0][2]))))  # fmt: skip


def ratio_cell(ours: float, best: float, who: str) -> str:
    """uvci's seconds against the lowest: the ratio and whether it is within 5% (or 0.1 s)."""
    if ours <= best:
        return f"**1.00** fastest ({ours:.1f} s)"
    ratio = ours / best if best > 0 else float("inf")
    close = ratio <= 1 + TOLERANCE or ours - best <= SLACK
    mark = "**within 5%**" if close else "slower"
    return f"{ratio:.2f} {mark} ({ours:.1f} s vs {best:.1f} s, {who})"


def _against(ours: Record, group: list[Record], value: Callable[[Record], float]) -> str:
    best = min(group, key=value)
    return ratio_cell(value(ours), value(best), best["strategy"])


def cold_floor(group: list[Record], ours: Record) -> float | None:
    """The no-cache pipeline's critical path plus one cell's own upload at the cache's rate."""
    none = [r for r in group if r["strategy"] == "none"]
    if not none or ours["profile"] not in PROFILES:
        return None
    upload = max((int(j["cache_upload_bytes"]) for j in ours.get("jobs", [])), default=0)
    rate = PROFILES[ours["profile"]].storage * 1e6
    return float(none[0]["critical_path_seconds"]) + upload / rate


def verdict(records: list[Record], job_start: float) -> str:
    head = (
        "uvci against the fastest of the five strategies (ratio 1.00: uvci is the fastest; a "
        "ratio is uvci's seconds over the lowest; within 5% or 0.1 s counts as a tie):\n\n"
        f"| project | profile | scenario | critical path | critical path + {job_start:g} s/job "
        "| dependency seconds | cold: vs floor of filling a cache | warm: index, upload |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for (project, profile, scenario), group in _groups(records).items():
        ours = next((r for r in group if r["strategy"] == "uvci"), None)
        if ours is None:
            continue
        cells = [
            _against(ours, group, lambda r: float(r["critical_path_seconds"])),
            _against(ours, group, lambda r: path_with_start(r, job_start)),
            _against(ours, group, lambda r: float(r["dependency_seconds"])),
        ]
        floor = cold_floor(group, ours) if scenario == "cold" else None
        vs_floor = "–"
        if floor is not None:
            ratio = ours["critical_path_seconds"] / floor if floor > 0 else 1.0
            mark = "**within 10%**" if ratio <= 1 + COLD_TOLERANCE else "above"
            ours_s = ours["critical_path_seconds"]
            vs_floor = f"{ratio:.2f} {mark} ({ours_s:.1f} s vs {floor:.1f} s)"
        moved = "–"
        if scenario == "warm":
            moved = f"{_mb(ours['index_bytes'])} MB, {_mb(ours['cache_upload_bytes'])} MB"
            if ours["index_bytes"] == 0 and ours["cache_upload_bytes"] == 0:
                moved = "0 B, 0 B"
        rows.append(f"| {project} | {profile} | {scenario} | " + " | ".join(cells) +
                    f" | {vs_floor} | {moved} |")  # fmt: skip
    return head + "\n".join(rows)


def twenty(records: list[Record], job_start: float) -> str:
    """Per project × profile: 1 cold + 3 bump + 16 warm pipelines summed, per strategy."""
    head = (
        "A run of 20 pipelines (1 cold, 3 bumps, 16 warm), summed from the medians above "
        "(not run as 20 pipelines); the ratio is to the lowest of the five:\n\n"
        f"| project | profile | strategy | critical path s | critical path + {job_start:g} s/job "
        "| runner (dependency) s | index MB | cache up + down MB |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for project, profile in sorted({(r["project"], r["profile"]) for r in records}):
        sums: dict[str, list[float]] = {}
        for strategy in STRATEGIES:
            picked = {
                r["scenario"]: r for r in records
                if (r["project"], r["profile"], r["strategy"]) == (project, profile, strategy)
            }  # fmt: skip
            if all(s in picked for s, _ in RUN):
                sums[strategy] = [
                    sum(n * measure(picked[s]) for s, n in RUN) for measure in _measures(job_start)
                ]
        for strategy, (path, started, dep, index, cache) in sums.items():
            low = [min(v[i] for v in sums.values()) for i in range(3)]
            cells = [f"{v:.1f} ({v / lo:.2f})" if lo > 0 else f"{v:.1f}"
                     for v, lo in zip((path, started, dep), low, strict=True)]  # fmt: skip
            name = f"**{strategy}**" if strategy == "uvci" else strategy
            rows.append(f"| {project} | {profile} | {name} | " + " | ".join(cells) +
                        f" | {_mb(index)} | {_mb(cache)} |")  # fmt: skip
    return head + "\n".join(rows)


def _measures(job_start: float) -> list[Callable[[Record], float]]:
    """What the 20-pipeline table sums: path, path with start-up, runner s, index, cache bytes."""

    def path(r: Record) -> float:
        return float(r["critical_path_seconds"])

    def started(r: Record) -> float:
        return path_with_start(r, job_start)

    def runner(r: Record) -> float:
        return float(r["dependency_seconds"])

    def index(r: Record) -> float:
        return float(r["index_bytes"])

    def cache(r: Record) -> float:
        return float(r["cache_upload_bytes"] + r["cache_download_bytes"])

    return [path, started, runner, index, cache]


def can_pay(profiles: list[str]) -> str:
    """One line per profile: whether restoring from the cache can beat the index at all."""
    lines = []
    for name in profiles:
        p = PROFILES.get(name)
        if p is None:
            continue
        down = p.parallel_download or p.storage
        rates = f"index {p.index:g} MB/s, cache {p.storage:g} MB/s"
        if p.parallel_download:
            rates += f" up, {down:g} MB/s down for archives over {p.parallel_over / 2**20:g} MiB"
        if p.index >= down:
            lines.append(
                f"- `{name}` ({rates}): the index is at "
                "least as fast as the cache, so in transfer time restoring a byte never beats "
                "downloading it: a cache can only save the work after the transfer (unpacking, "
                "building) and index bytes, and it costs its upload after every lock change."
            )
        else:
            lines.append(
                f"- `{name}` ({rates}): a restored "
                f"byte costs {p.index / down:.2f} of a downloaded one: a cache can pay."
            )
    return "\n".join(lines)
