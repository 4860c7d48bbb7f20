"""Results: raw records (JSON), a results table (Markdown) and a chart (PNG)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.scenarios import SCENARIOS, Record
from bench.strategies import STRATEGIES
from bench.verdict import can_pay, jobs_on_path, path_with_start, twenty, verdict
from uvci.util.uvproc import uv_version

ROWS = (
    ("critical_path_seconds", "critical path (s)"),
    ("dependency_seconds", "runner seconds, sum over jobs (s)"),
    ("index_mb", "MB from the index"),
)
COLORS = {
    "none": "#9e9e9e", "seed": "#e69f00", "uv-docs": "#56b4e9", "tuned": "#cc79a7",
    "uvci": "#009e73",
}  # fmt: skip
DEFAULT_JOB_START = 30.0


def write(
    out: Path, records: list[Record], failures: list[Record], args: dict[str, Any],
    pythons: dict[str, Path],
) -> None:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    _atomic(out / "benchmarks.json", json.dumps(records, indent=1) + "\n")
    (out / "benchmarks.failures.json").unlink(missing_ok=True)
    if failures:
        _atomic(out / "benchmarks.failures.json", json.dumps(failures, indent=1) + "\n")
    chart(records, out / "benchmarks.png")
    start = float(args.get("job_start") or DEFAULT_JOB_START)
    profiles = sorted({r["profile"] for r in records})
    results = "\n\n".join([
        table(records, failures, start), verdict(records, start), twenty(records, start),
        START_NOTE.format(start=start), "Can a cache pay?\n\n" + can_pay(profiles),
    ]) + "\n" + machine(records) + "\n\n" + measured(records)  # fmt: skip
    md = out / "benchmarks.md"
    _atomic(md, splice(md.read_text() if md.exists() else "", results))


def splice(document: str, results: str) -> str:
    """``document`` with the text between the results markers replaced (appended if absent)."""
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    block = f"{start}\n{results}\n{end}"
    if start in document and end in document:
        before, rest = document.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return (document.rstrip() + "\n\n" if document else "# Benchmarks\n\n") + block + "\n"


def merge(path: Path, new: list[Record]) -> list[Record]:
    """The records in ``path`` that ``new`` does not replace, then ``new``."""
    redone = {_ident(r) for r in new}
    old: list[Record] = json.loads(path.read_text()) if path.is_file() else []
    return [r for r in old if _ident(r) not in redone] + new


def _ident(r: Record) -> tuple[str, str, str, str]:
    return (r["project"], r["profile"], r["scenario"], r["strategy"])


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


def _order(r: Record) -> tuple[str, str, int, int]:
    return (r["project"], r["profile"], SCENARIOS.index(r["scenario"]),
            STRATEGIES.index(r["strategy"]))  # fmt: skip


START_NOTE = (
    "Critical path + {start:g} s/job adds {start:g} s for each job on the critical path (its "
    "stages): an **assumption** drawn from GitLab's published SLO for hosted runners picking "
    "up a job, not a measurement; the runs here start jobs at once (0 s)."
)


def table(records: list[Record], failures: list[Record], job_start: float) -> str:
    head = (
        "| project | profile | scenario | strategy | critical path s | jobs on path "
        f"| critical path + {job_start:g} s/job | dependency s "
        "| index MB | cache up MB | cache down MB | rounds |\n"
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = [
        f"| {r['project']} | {r['profile']} | {r['scenario']} | {r['strategy']} "
        f"| {r['critical_path_seconds']:.2f} | {jobs_on_path(r)} "
        f"| {path_with_start(r, job_start):.1f} | {r['dependency_seconds']:.2f} "
        f"| {_mb(r['index_bytes'])} | {_mb(r['cache_upload_bytes'])} "
        f"| {_mb(r['cache_download_bytes'])} | {len(r.get('runs', [r]))} |"
        for r in sorted(records, key=_order)
    ]
    fails = [
        f"- **{f['strategy']}** failed on {f['project']}/{f['profile']}/{f['scenario']}: "
        f"`{f['error'][:300]}`"
        for f in failures
    ]
    return (
        head + "\n".join(rows) + ("\n\nFailed (no numbers):\n" + "\n".join(fails) if fails else "")
    )


def measured(records: list[Record]) -> str:
    """When each project x profile was measured: a merged file mixes runs of several days."""
    when: dict[tuple[str, str], set[str]] = {}
    for r in records:
        when.setdefault((r["project"], r["profile"]), set()).add(
            str(r.get("measured_at", "?"))[:10]
        )
    cells = [f"{p}/{q}: {', '.join(sorted(d))}" for (p, q), d in sorted(when.items())]
    return "Measured (UTC date of each project/profile's records): " + "; ".join(cells) + "."


def machine(records: list[Record]) -> str:
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    per_project = {r["project"]: ", ".join(r.get("pythons", [])) for r in records}
    used = "; ".join(f"{project} on {v}" for project, v in sorted(per_project.items()))
    return (
        f"\nMachine: {platform.platform()}, {cpus} cores, {mem:.0f} GiB; uv {uv_version()}; "
        f"Pythons: {used}.\n"
    )


def chart(records: list[Record], path: Path) -> None:
    """A row per project × profile, a column per measure (critical path, runner seconds, index
    MB): a group of bars per scenario, a bar per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = sorted({(r["project"], r["profile"]) for r in records})
    if not panels:
        return
    size = (5.0 * len(ROWS), 2.9 * len(panels) + 0.8)
    fig, axes = plt.subplots(len(panels), len(ROWS), figsize=size, squeeze=False)
    for row, (project, profile) in enumerate(panels):
        subset = [r for r in records if r["project"] == project and r["profile"] == profile]
        for col, (metric, label) in enumerate(ROWS):
            _panel(axes[row][col], subset, metric)
            axes[row][col].set_title(f"{project}, {profile}: {label}", fontsize=9)
    handles = [Patch(color=c) for c in COLORS.values()]
    fig.legend(handles, list(COLORS), loc="upper center", ncol=len(COLORS), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / size[1]))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _panel(ax: Any, subset: list[Record], metric: str) -> None:
    width = 0.8 / len(STRATEGIES)
    for i, strategy in enumerate(STRATEGIES):
        for j, scenario in enumerate(SCENARIOS):
            vals = [
                r["index_bytes"] / 1e6 if metric == "index_mb" else r[metric]
                for r in subset
                if r["strategy"] == strategy and r["scenario"] == scenario
            ]
            if vals:
                x = j + (i - (len(STRATEGIES) - 1) / 2) * width
                ax.bar(x, vals[0], width, color=COLORS[strategy])
                if vals[0] == 0:
                    ax.text(x, 0, "0", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(SCENARIOS)), SCENARIOS)
    ax.grid(axis="y", alpha=0.3)
