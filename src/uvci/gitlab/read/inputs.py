"""``spec: inputs`` and ``$[[ inputs.X ]]`` interpolation, as GitLab does it.

A file whose header (the document before ``---``) declares ``spec: inputs:`` has its keys and
values interpolated with each input's value: the one given (``include: inputs:``, or
``uvci doctor --input NAME=VALUE`` for the root file), else its default. A value that is one
interpolation alone keeps the input's type (an array input can be a whole ``script:``).
Files without the header are left as written, as GitLab leaves them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvci.errors import FatalError

_INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*((?:\|[^\]|]*)*)\]\]")
_TRUNCATE = re.compile(r"truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_MISSING = object()


@dataclass(frozen=True)
class Inputs:
    """The inputs of one file: name -> value (``_MISSING`` when required and not given)."""

    path: Path
    values: Mapping[str, Any]

    def apply(self, value: Any) -> Any:
        """``value`` with its interpolations replaced (non-strings are returned as they are)."""
        if not isinstance(value, str) or "$[[" not in value:
            return value
        whole = _INTERPOLATION.fullmatch(value.strip())
        if whole and not whole.group(2):
            return self._value(whole.group(1))
        return _INTERPOLATION.sub(self._text, value)

    def _text(self, match: re.Match[str]) -> str:
        found = self._value(match.group(1))
        text = _scalar(found)
        for function in match.group(2).split("|")[1:]:
            truncate = _TRUNCATE.fullmatch(function.strip())
            if truncate:
                start, length = int(truncate.group(1)), int(truncate.group(2))
                text = text[start : start + length]
        return text

    def _value(self, name: str) -> Any:
        found = self.values.get(name, _MISSING)
        if name not in self.values:
            raise FatalError(
                f"{self.path}: `$[[ inputs.{name} ]]` names an input that `spec: inputs:` does "
                "not declare; declare it or fix the name"
            )
        if found is _MISSING:
            raise FatalError(
                f"{self.path}: input '{name}' has no default and no value; pass "
                f"`--input {name}=VALUE` (or `inputs:` on the include)"
            )
        return found


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def declared(header: Any, path: Path, given: Mapping[str, Any]) -> Inputs | None:
    """The inputs of a file with ``header`` (None without ``spec: inputs:``)."""
    spec = header.get("spec") if isinstance(header, Mapping) else None
    block = spec.get("inputs") if isinstance(spec, Mapping) else None
    if not isinstance(block, Mapping):
        return None
    values: dict[str, Any] = {}
    for name, decl in block.items():
        default = decl.get("default", _MISSING) if isinstance(decl, Mapping) else _MISSING
        kind = decl.get("type", "string") if isinstance(decl, Mapping) else "string"
        values[str(name)] = _typed(given[name], str(kind)) if name in given else default
    return Inputs(path, values)


def _typed(value: Any, kind: str) -> Any:
    """A value given on the command line as text, read as its declared type."""
    if not isinstance(value, str) or kind == "string":
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_cli(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; FatalError for a pair without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise FatalError(f"--input {pair!r}: write it as NAME=VALUE")
        out[name.strip()] = value
    return out
