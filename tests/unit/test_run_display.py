"""uvci.runner.display: plain progress lines and the summary table, as a log would show them."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from uvci.model.plan import Totals
from uvci.runner.cells import FAILED, PASSED, SKIPPED, CellRun
from uvci.runner.display import Progress, print_failures, summary_table
from uvci.runner.interpreters import Interpreter
from uvci.runner.session import fetch_summary
from uvci.wheelhouse.fill import PrefetchResult


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, force_terminal=False), out


def _cells() -> list[CellRun]:
    passed = CellRun("3.12", Interpreter("3.12", Path("/py312"), "3.12.1"))
    passed.started = 0.0
    passed.timings = {"install": 0.5, "test": 1.25}
    passed.finish(PASSED)
    failed = CellRun("3.13", Interpreter("3.13", Path("/py313"), "3.13.0"))
    failed.reused = True
    failed.timings = {"install": 0.01, "test": 2.0}
    failed.output = "\n".join(f"line {i}" for i in range(40))
    failed.finish(FAILED, "exit 1")
    skipped = CellRun("3.15", None)
    skipped.finish(SKIPPED, "no Python 3.15 installed")
    return [passed, failed, skipped]


def test_plain_progress_is_one_line_per_change_without_a_live_display() -> None:
    console, out = _console()
    cells = _cells()
    with Progress(console, cells) as progress:
        progress.phase("wheelhouse: nothing to do")
        progress.update(cells[1])
    assert out.getvalue().splitlines() == [
        "uvci run: wheelhouse: nothing to do",
        f"uvci run: [3.13] failed (exit 1) in {cells[1].elapsed:.1f}s",
    ]


def test_summary_shows_timings_results_and_reasons() -> None:
    console, out = _console()
    console.print(summary_table(_cells(), 0.75, "fetch (once, for every environment built): 0.8s"))
    text = out.getvalue()
    row = next(line for line in text.splitlines() if "3.12" in line)
    assert "passed" in row and "0.8s" in row and "0.5s" in row and "1.2s" in row
    reused = next(line for line in text.splitlines() if "3.13" in line)
    assert "(reused)" in reused and "0.8s" not in reused  # a reused cell fetched nothing
    assert "no Python 3.15 installed" in text and "fetch (once" in text


def test_failures_show_the_tail_of_the_output() -> None:
    console, out = _console()
    print_failures(console, _cells())
    text = out.getvalue()
    assert "3.13: failed (exit 1)" in text and "line 39" in text and "line 14\n" not in text


def test_fetch_summary_names_what_the_fill_did_in_report_order() -> None:
    none, two = Totals(0, 0), Totals(2, 1234567)
    result = PrefetchResult(True, Totals(1, 10), two, none, Totals(3, 5), Path("wh"))
    assert fetch_summary(result) == (
        "fetched 1 files (10 bytes), reused 2 files (1,234,567 bytes), removed 3 files (5 bytes)"
    )
    assert fetch_summary(PrefetchResult(False, none, none, none, none, Path("wh"))) == (
        "nothing to do"
    )
