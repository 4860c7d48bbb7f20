"""Sizes as uvci shows them: decimal megabytes, as uv and PyPI show file sizes."""

from __future__ import annotations

MB = 1_000_000


def megabytes(size: float, digits: int = 1) -> str:
    """``12,345,678`` bytes -> ``"12.3 MB"`` (``digits`` after the point)."""
    return f"{size / MB:,.{digits}f} MB"
