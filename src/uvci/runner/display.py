"""Progress: a live table on a terminal (one row per cell), plain lines otherwise; the summary."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from uvci.runner.cells import CANCELLED, ERROR, FAILED, PASSED, SKIPPED, CellRun

STYLES = {PASSED: "green", FAILED: "red", ERROR: "red", SKIPPED: "yellow", CANCELLED: "yellow"}
TAIL_LINES = 25


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}s"


def _result(cell: CellRun) -> Text:
    label = cell.result or cell.phase
    return Text(label, style=STYLES.get(cell.result or "", "cyan"))


def _interpreter(cell: CellRun) -> str:
    return cell.interpreter.version if cell.interpreter else "-"


def live_table(cells: Sequence[CellRun]) -> Table:
    table = Table(title="uvci run", title_justify="left", expand=False)
    for column in ("python", "interpreter", "phase / result", "elapsed", "detail"):
        table.add_column(column)
    for cell in cells:
        detail = cell.detail if cell.result else ""
        table.add_row(
            cell.python,
            _interpreter(cell),
            _result(cell),
            _seconds(cell.elapsed if cell.started else None),
            detail,
        )
    return table


class Progress:
    """Context manager: live rows on a terminal, one plain line per phase change otherwise."""

    def __init__(self, console: Console, cells: Sequence[CellRun]) -> None:
        self.console = console
        self.cells = cells
        self._lock = threading.Lock()
        self._live: Live | None = None
        if console.is_terminal:
            self._live = Live(
                console=console,
                get_renderable=lambda: live_table(self.cells),
                refresh_per_second=4,
                transient=True,
            )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def phase(self, message: str) -> None:
        """A session-wide step (fetch, build): printed as a line in both modes."""
        with self._lock:
            self.console.print(f"uvci run: {message}", highlight=False)

    def update(self, cell: CellRun) -> None:
        if self._live is not None:
            return
        state = cell.result or cell.phase
        detail = f" ({cell.detail})" if cell.result and cell.detail else ""
        if cell.result:
            detail += f" in {cell.elapsed:.1f}s"
        with self._lock:
            self.console.print(f"uvci run: [{cell.python}] {state}{detail}", highlight=False)


def summary_table(cells: Sequence[CellRun], fetch_seconds: float | None, caption: str) -> Table:
    table = Table(title="uvci run: summary", title_justify="left", caption=caption)
    for column in ("python", "interpreter", "result", "fetch", "install", "test", "detail"):
        table.add_column(
            column, justify="right" if column in ("fetch", "install", "test") else "left"
        )
    for cell in cells:
        fetched = cell.result not in (SKIPPED, None) and not cell.reused
        table.add_row(
            cell.python,
            _interpreter(cell),
            _result(cell),
            _seconds(fetch_seconds) if fetched else "",
            _seconds(cell.timings.get("install")) + (" (reused)" if cell.reused else ""),
            _seconds(cell.timings.get("test")),
            cell.detail,
        )
    return table


def print_failures(console: Console, cells: Sequence[CellRun]) -> None:
    """The last lines of output of every failed cell, below a rule naming it."""
    for cell in cells:
        if cell.result not in (FAILED, ERROR) or not cell.output.strip():
            continue
        console.rule(f"{cell.python}: {cell.result} ({cell.detail})", align="left")
        tail = cell.output.rstrip().splitlines()[-TAIL_LINES:]
        console.print(Text("\n".join(tail)), highlight=False)
