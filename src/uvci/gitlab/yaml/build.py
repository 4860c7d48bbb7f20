"""Small helpers to build commented YAML (ruamel round-trip nodes) for generated pipelines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString


def mapping(*items: tuple[str, Any] | tuple[str, Any, str]) -> CommentedMap:
    """A mapping from ``(key, value)`` or ``(key, value, end-of-line comment)`` items."""
    node = CommentedMap()
    for item in items:
        node[item[0]] = item[1]
        if len(item) == 3 and item[2]:
            node.yaml_add_eol_comment(item[2], item[0])
    return node


def flow(values: Iterable[Any]) -> CommentedSeq:
    """A short list written inline: ``[a, b]``."""
    seq = CommentedSeq(list(values))
    seq.fa.set_flow_style()
    return seq


def block(values: Iterable[Any]) -> CommentedSeq:
    return CommentedSeq(list(values))


def quoted(value: str) -> DoubleQuotedScalarString:
    """A string always written in double quotes (versions like "3.10" must stay strings)."""
    node: DoubleQuotedScalarString = DoubleQuotedScalarString(value)
    return node


def script_line(command: str) -> str | LiteralScalarString:
    """A script item: multi-line commands become ``|`` literal blocks."""
    return LiteralScalarString(command.rstrip("\n") + "\n") if "\n" in command else command


def comment_before(node: CommentedMap, key: str, text: str, indent: int) -> None:
    """Comment lines (``text`` split on newlines) written above ``key``."""
    node.yaml_set_comment_before_after_key(key, before=text, indent=indent)
