"""The JUnit files of a finished run: one per cell (whatever became of it), then the merge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from uvci.runner import junit
from uvci.runner.cells import CANCELLED, ERROR, SKIPPED, CellRun


def write_reports(cells: Sequence[CellRun], run_dir: Path, merged: Path) -> None:
    """``junit-<py>.xml`` for cells whose tests did not run, then the merged report."""
    reports = []
    for cell in cells:
        report = run_dir / f"junit-{cell.python}.xml"
        if cell.junit is None and cell.result in (SKIPPED, CANCELLED):
            junit.write_skipped(report, cell.python, cell.detail)
            cell.junit = report
        elif cell.junit is None and cell.result == ERROR:
            junit.write_error(report, cell.python, cell.detail, cell.output)
            cell.junit = report
        if cell.junit is not None and cell.junit.is_file():
            reports.append((cell.python, cell.junit))
    junit.merge(reports, merged)
