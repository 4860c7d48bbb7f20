"""Results: raw records (JSON), a results table (Markdown) and a chart (PNG)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.scenarios import SCENARIOS, Record
from bench.strategies import STRATEGIES
from uvci.uvproc import uv_version

ROWS = (
    ("critical_path_seconds", "critical path (s)\nlower is better"),
    ("dependency_seconds", "dependency seconds,\nsum over jobs (s)"),
    ("index_mb", "MB from the index"),
)
COLORS = {"none": "#9e9e9e", "seed": "#e69f00", "uv-docs": "#56b4e9", "uvci": "#009e73"}


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
    results = table(records, failures) + "\n\n" + verdict(records) + "\n" + machine(pythons)
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


def table(records: list[Record], failures: list[Record]) -> str:
    head = (
        "| project | profile | scenario | strategy | dependency s | critical path s "
        "| index MB | cache up MB | cache down MB | rounds |\n"
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = [
        f"| {r['project']} | {r['profile']} | {r['scenario']} | {r['strategy']} "
        f"| {r['dependency_seconds']:.1f} | {r['critical_path_seconds']:.1f} "
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


TOLERANCE = 0.05  # "within 5% of the fastest"


def verdict(records: list[Record]) -> str:
    """uvci against the fastest of the four, per project × profile × scenario: the ratio of its
    critical path and of its dependency seconds to the lowest, and the warm-pipeline bytes."""
    head = (
        "uvci against the fastest strategy (ratio 1.00: uvci is the fastest; a ratio is "
        "uvci's seconds over the lowest of the four):\n\n"
        "| project | profile | scenario | critical path | dependency seconds "
        "| warm: index, upload |\n"
        "|---|---|---|---|---|---|\n"
    )
    rows = []
    for project, profile, scenario in sorted(
        {(r["project"], r["profile"], r["scenario"]) for r in records},
        key=lambda k: (k[0], k[1], SCENARIOS.index(k[2])),
    ):
        group = [
            r for r in records
            if (r["project"], r["profile"], r["scenario"]) == (project, profile, scenario)
        ]  # fmt: skip
        ours = [r for r in group if r["strategy"] == "uvci"]
        if not ours:
            continue
        cells = [
            _against(ours[0], group, m) for m in ("critical_path_seconds", "dependency_seconds")
        ]
        moved = "–"
        if scenario == "warm":
            nothing = ours[0]["index_bytes"] == 0 and ours[0]["cache_upload_bytes"] == 0
            moved = (
                "0 B, 0 B"
                if nothing
                else (f"{_mb(ours[0]['index_bytes'])} MB, {_mb(ours[0]['cache_upload_bytes'])} MB")
            )
        rows.append(f"| {project} | {profile} | {scenario} | {cells[0]} | {cells[1]} | {moved} |")
    return head + "\n".join(rows)


def _against(ours: Record, group: list[Record], metric: str) -> str:
    best = min(group, key=lambda r: r[metric])
    ratio = ours[metric] / best[metric] if best[metric] > 0 else 1.0
    if ratio <= 1.0:  # uvci itself is the lowest (or ties it)
        return f"**1.00** fastest ({ours[metric]:.1f} s)"
    mark = "**within 5%**" if ratio <= 1 + TOLERANCE else "slower"
    return f"{ratio:.2f} {mark} ({ours[metric]:.1f} s vs {best[metric]:.1f} s, {best['strategy']})"


def machine(pythons: dict[str, Path]) -> str:
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"\nMachine: {platform.platform()}, {cpus} cores, {mem:.0f} GiB; uv {uv_version()}; "
        f"Pythons {', '.join(pythons)}.\n"
    )


def chart(records: list[Record], path: Path) -> None:
    """One panel per project × profile: critical path seconds per scenario, a bar per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = sorted({(r["project"], r["profile"]) for r in records})
    if not panels:
        return
    fig, axes = plt.subplots(3, len(panels), figsize=(4.2 * len(panels), 10), squeeze=False)
    for col, (project, profile) in enumerate(panels):
        subset = [r for r in records if r["project"] == project and r["profile"] == profile]
        for row, (metric, _label) in enumerate(ROWS):
            _panel(axes[row][col], subset, metric)
            axes[row][col].set_title(f"{project}, {profile} index", fontsize=10)
    for row, (_metric, label) in enumerate(ROWS):
        axes[row][0].set_ylabel(label)
    handles = [Patch(color=c) for c in COLORS.values()]
    fig.legend(handles, list(COLORS), loc="upper center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
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
