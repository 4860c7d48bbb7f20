"""`uvci plan`: what every matrix cell installs, and what a cache costs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from uvci.commands.options import PlanArgs, add_plan_arguments, plan_for
from uvci.errors import EXIT_FINDINGS, EXIT_OK, FatalError
from uvci.model.cachecost import CellCost, cell_costs, summary
from uvci.model.plan import Cell, Plan
from uvci.util.redact import redact
from uvci.util.units import megabytes

if TYPE_CHECKING:  # rich is imported only to draw tables (not for --json)
    from rich.console import Console
    from rich.table import Table

DESCRIPTION = """\
Read pyproject.toml and uv.lock and show, for each Python of the matrix, every package
`uv sync` installs there and the exact file uv picks (the best wheel for the platform's tags,
or the sdist, which the cell then builds). Totals show the bytes each cell downloads, the
union over the matrix, and what the cells share: whether one shared wheelhouse or one
cache per Python is cheaper.

Nothing is downloaded or installed; the lock is the truth. uv.lock must be up to date
(`uv lock --check`), as `uv sync --locked` requires.

exit codes: 0 the plan was shown, 2 bad input (no or stale uv.lock, an unknown Python,
platform, extra or group).

examples:
  uvci plan                              # the project in the current directory
  uvci plan examples/matrix-demo --python 3.10,3.13
  uvci plan --platform x86_64-unknown-linux-musl --all-extras --json
  uvci plan --index-rate 100 --cache-rate 25   # what a cache costs and saves per cell
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--files", action="store_true", help="list every package of every cell, not only totals"
    )
    rates = parser.add_argument_group("what a cache costs and saves (both, in MB/s)")
    rates.add_argument("--index-rate", type=float, metavar="MB/S",
                       help="download rate from the package index")  # fmt: skip
    rates.add_argument("--cache-rate", type=float, metavar="MB/S",
                       help="transfer rate to and from the runner's cache storage")  # fmt: skip


@dataclass(frozen=True)
class PlanOptions:
    """`uvci plan`'s arguments, read once."""

    request: PlanArgs
    json: bool
    files: bool
    rates: tuple[float, float] | None  # (index, cache) in MB/s: what a cache costs and saves

    @classmethod
    def parse(cls, args: argparse.Namespace) -> PlanOptions:
        index, cache = args.index_rate, args.cache_rate
        if index is None and cache is None:
            return cls(PlanArgs.parse(args), args.json, args.files, None)
        if index is None or cache is None or index <= 0 or cache <= 0:
            raise FatalError("give both --index-rate and --cache-rate, in MB/s (> 0)")
        return cls(PlanArgs.parse(args), args.json, args.files, (index, cache))


def run(args: argparse.Namespace) -> int:
    opts = PlanOptions.parse(args)
    plan = plan_for(opts.request)
    costs = cell_costs(plan, *opts.rates) if opts.rates else None
    if opts.json:
        sys.stdout.write(json.dumps(_json(plan, opts, costs), indent=2) + "\n")  # one write
    else:
        _show(plan, opts, costs)
    problem = unavailable_message(plan)
    if problem is None:
        return EXIT_OK
    print(f"uvci plan: {problem}", file=sys.stderr)
    return EXIT_FINDINGS


def _json(plan: Plan, opts: PlanOptions, costs: list[CellCost] | None) -> dict[str, Any]:
    doc = plan.to_json()
    if costs is not None and opts.rates is not None:
        doc["cache_cost"] = {"cells": [c.to_json() for c in costs],
                             "summary": summary(costs, *opts.rates)}  # fmt: skip
    return doc


def _show(plan: Plan, opts: PlanOptions, costs: list[CellCost] | None) -> None:
    from rich.console import Console  # only to draw tables (not for --json)

    render(plan, Console(), files=opts.files)
    if costs is not None and opts.rates is not None:
        Console().print(_costs_table(costs), f"cache: {summary(costs, *opts.rates)}")


def unavailable_message(plan: Plan, pythons: Sequence[str] = ()) -> str | None:
    """What no cell (of ``pythons``; default all) can install (uv sync would fail there), or
    None when every cell can. `uvci prefetch` says the same and exits 1 as well."""
    cells = [c for c in plan.cells if not pythons or c.python in pythons]
    broken = [f"Python {c.python}: {', '.join(c.unavailable)}" for c in cells if c.unavailable]
    if not broken:
        return None
    return (
        f"no locked file fits {plan.platform} for {'; '.join(broken)} (no compatible wheel "
        "and no sdist): uv sync would fail there; choose another --platform or --python, or "
        "add a source distribution"
    )


def render(plan: Plan, console: Console, *, files: bool = False) -> None:
    project = plan.project.name or plan.project.root.name
    console.print(
        f"[bold]{project}[/]: Python {', '.join(plan.pythons)} on {plan.platform}"
        f" ({len(plan.lock.packages)} locked packages)"
    )
    for note in plan.notes:
        console.print(f"  note: {redact(note)}", markup=False)
    console.print(_cells_table(plan))
    if files:
        for cell in plan.cells:
            console.print(_files_table(cell))
    union, shared = plan.union, plan.shared
    console.print(
        f"union: {union.files} files, {megabytes(union.bytes)}; shared by 2+ cells: "
        f"{shared.files} files, {megabytes(shared.bytes)}"
    )
    console.print(_layout_advice(plan))


def _table(title: str) -> Table:
    from rich.table import Table

    return Table(title=title)


def _cells_table(plan: Plan) -> Table:
    table = _table("cells")
    for column in ("python", "packages", "download", "build from source"):
        table.add_column(column, justify="right" if column != "build from source" else "left")
    for cell in plan.cells:
        builds = ", ".join(cell.build_from_source) or "-"
        if cell.unavailable:
            builds += f" [red](no file fits: {', '.join(cell.unavailable)})[/]"
        table.add_row(cell.python, str(len(cell.packages)), megabytes(cell.download_bytes), builds)
    return table


def _costs_table(costs: list[CellCost]) -> Table:
    table = _table("a cache per cell (seconds = bytes / rate)")
    heads = ("python", "no cache: index s", "warm: restore s", "fill: +upload s",
             "warm saves s", "pays after")  # fmt: skip
    for column in heads:
        table.add_column(column, justify="right")
    for c in costs:
        pays = f"{c.pays_after} warm" if c.pays_after is not None else "never"
        table.add_row(c.python, f"{c.index_seconds:.2f}", f"{c.restore_seconds:.2f}",
                      f"{c.upload_seconds:.2f}", f"{c.saves:+.2f}", pays)  # fmt: skip
    return table


def _files_table(cell: Cell) -> Table:
    table = _table(f"Python {cell.python}")
    for column in ("package", "version", "kind", "file", "size"):
        table.add_column(column)
    for p in cell.packages:
        table.add_row(p.name, p.version or "", p.kind, p.file or "", megabytes(p.size or 0))
    return table


def _layout_advice(plan: Plan) -> str:
    per_cell = sum(c.download_bytes for c in plan.cells)
    union = plan.union.bytes
    if plan.layout == "shared":
        return (
            f"cache: one shared wheelhouse ({megabytes(union)}) serves every cell; "
            f"per-Python caches would store {megabytes(per_cell)}"
        )
    return (
        f"cache: one wheelhouse per Python ({megabytes(per_cell)} in all); a shared one would make "
        f"each job restore {megabytes(union)}"
    )
