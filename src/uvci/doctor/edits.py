"""Build :class:`Edit` values that point at the original YAML node to change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from uvci.doctor.context import Context
from uvci.doctor.model import Edit
from uvci.gitlab.read.nodes import origin_of

_STYLES = (
    LiteralScalarString,
    FoldedScalarString,
    DoubleQuotedScalarString,
    SingleQuotedScalarString,
)


def like(old: Any, text: str) -> Any:
    """``text`` in the same YAML scalar style as ``old`` (literal, folded, quoted, plain)."""
    for style in _STYLES:
        if isinstance(old, style):
            if style is FoldedScalarString and "\n" in text.rstrip("\n"):
                return LiteralScalarString(text)
            return style(text)
    return text


def _original(node: Any, key: Any) -> Any:
    if key in node:
        return origin_of(node, key)
    keys = list(node)
    return origin_of(node, keys[0]) if keys else node


def set_key(ctx: Context, node: Any, key: Any, value: Any, text: str) -> Edit:
    """``node[key] = value`` in the file that defines ``node[key]`` (or ``node``)."""
    container = _original(node, key)
    path = ctx.pipeline.registry.file_of(container) or ctx.pipeline.root
    return Edit("set", path, container, key, value, text)


def set_item(
    ctx: Context, site: tuple[Any, Any], value: Any, text: str, lock_dir: Path | None = None
) -> Edit:
    """Replace the original item at ``site`` (a ``(container, key-or-index)`` pair);
    ``lock_dir``: only if the uv.lock there is up to date."""
    container, key = site
    path = ctx.pipeline.registry.file_of(container) or ctx.pipeline.root
    return Edit("set", path, container, key, value, text, lock_dir)


def delete_item(ctx: Context, site: tuple[Any, Any], text: str) -> Edit:
    container, key = site
    path = ctx.pipeline.registry.file_of(container) or ctx.pipeline.root
    return Edit("delete", path, container, key, None, text)


def global_var(ctx: Context, name: str, value: str) -> Edit:
    """Add ``name: value`` to the top-level ``variables:`` of the root pipeline file."""
    return Edit("global_var", ctx.pipeline.root, None, name, value, f"set {name}: {value}")
