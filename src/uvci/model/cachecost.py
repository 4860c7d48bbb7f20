"""What a wheel cache costs and saves per matrix cell, from the plan's bytes and two rates.

Without a cache a cell downloads its files from the index every pipeline. With one, a warm
cell restores the archive from the cache storage instead, and a pipeline that fills it (a new
lock) downloads as before and uploads the archive on top. Seconds are bytes over rates: no
per-request latency, no archive or unpack time (`bench/pipeline.py` measures those).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from uvci.model.plan import Plan
from uvci.util.units import MB


@dataclass(frozen=True)
class CellCost:
    python: str
    index_bytes: int  # what the cell downloads without a cache
    cache_bytes: int  # what it restores (the shared wheelhouse: every cell's files)
    index_seconds: float  # a pipeline without a cache
    restore_seconds: float  # a warm pipeline with the cache
    upload_seconds: float  # added to a pipeline that fills it

    @property
    def saves(self) -> float:
        """Seconds a warm pipeline saves (negative: the cache makes it slower)."""
        return self.index_seconds - self.restore_seconds

    @property
    def pays_after(self) -> int | None:
        """Warm pipelines needed to win back one fill; None: never (a cache cannot pay)."""
        if self.saves <= 0:
            return None
        return max(1, math.ceil(self.upload_seconds / self.saves))

    def to_json(self) -> dict[str, Any]:
        keys = ("python", "index_bytes", "cache_bytes", "index_seconds", "restore_seconds",
                "upload_seconds", "saves", "pays_after")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def cell_costs(plan: Plan, index_rate: float, cache_rate: float) -> list[CellCost]:
    """Per cell, at ``index_rate`` and ``cache_rate`` MB/s."""
    if index_rate <= 0 or cache_rate <= 0:
        raise ValueError("rates must be positive MB/s")
    out = []
    for cell in plan.cells:
        cached = plan.union.bytes if plan.layout == "shared" else cell.download_bytes
        index_s = round(cell.download_bytes / (index_rate * MB), 3)
        cache_s = round(cached / (cache_rate * MB), 3)
        out.append(CellCost(cell.python, cell.download_bytes, cached, index_s, cache_s, cache_s))
    return out


def summary(costs: list[CellCost], index_rate: float, cache_rate: float) -> str:
    """One sentence: whether a cache can pay at these rates."""
    if index_rate >= cache_rate:
        return (
            f"the index ({index_rate:g} MB/s) is at least as fast as the cache ({cache_rate:g} "
            "MB/s): a cache cannot pay in time; it saves index bytes, and costs its upload "
            "after every lock change"
        )
    never = [c.python for c in costs if c.pays_after is None]
    if never:
        return f"a cache cannot pay for Python {', '.join(never)} at these rates"
    worst = max(c.pays_after or 0 for c in costs)
    return f"a cache pays for its fill after {worst} warm pipeline(s) in every cell"
