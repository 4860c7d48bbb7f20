"""CI variables: their values as GitLab sees them, and ``$VAR``/``${VAR}`` expansion."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def variable_values(block: Any) -> dict[str, str]:
    """A ``variables:`` block as ``name -> value`` (``{value: ...}`` forms unwrapped)."""
    if not isinstance(block, Mapping):
        return {}
    out: dict[str, str] = {}
    for name, value in block.items():
        if isinstance(value, Mapping):
            value = value.get("value", "")
        out[str(name)] = "" if value is None else _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def expand(text: str, variables: Mapping[str, str], depth: int = 5) -> str:
    """Expand ``$VAR``/``${VAR}`` from ``variables``; unknown variables stay as written."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))

    for _ in range(depth):
        expanded = _VAR.sub(one, text)
        if expanded == text:
            break
        text = expanded
    return text
