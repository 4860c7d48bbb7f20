"""A read-only YAML loader about twice as fast as the round-trip one, for checking only.

It composes with ruamel's comment-free safe parser and builds the same ``CommentedMap`` /
``CommentedSeq`` shapes the round-trip loader gives, with the same line information (``lc``),
``!reference`` tags, shared anchored nodes and ``<<`` merge keys, so everything downstream
(locations, resolution, rules) works unchanged. It keeps no comments or styles: anything
that writes a file must load with :func:`uvci.gitlab.yamlio.loads` instead.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedKeyMap, CommentedKeySeq, CommentedMap, CommentedSeq
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

_MERGE = "tag:yaml.org,2002:merge"


def compose_all(text: str) -> list[Any]:
    """The documents of ``text`` (raises ruamel's YAMLError on bad syntax)."""
    yaml = YAML(typ="safe", pure=True)
    nodes = [node for node in yaml.compose_all(text) if node is not None]
    builder = _Builder(yaml.constructor)
    return [builder.build(node) for node in nodes]


def _tag(node: Node) -> str:
    return str(getattr(node.tag, "value", node.tag))


def _hashable(key: Any) -> Any:
    """A sequence or mapping used as a key, frozen as the round-trip loader freezes it."""
    if isinstance(key, CommentedSeq):
        return CommentedKeySeq(key)
    if isinstance(key, CommentedMap):
        return CommentedKeyMap(key)
    return key


class _Builder:
    def __init__(self, scalars: SafeConstructor) -> None:
        self.scalars = scalars
        self.memo: dict[int, Any] = {}  # anchored nodes are shared, like aliases
        self.open: set[int] = set()  # collections being built: an alias to one is recursive

    def build(self, node: Node) -> Any:
        if id(node) in self.open:
            return None  # a recursive alias: the round-trip loader reads it as null too
        if id(node) in self.memo:
            return self.memo[id(node)]
        if isinstance(node, ScalarNode):
            return self.scalars.construct_object(node, deep=True)
        self.open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node)
            assert isinstance(node, SequenceNode)
            return self._sequence(node)
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: MappingNode) -> CommentedMap:
        out = CommentedMap()
        self.memo[id(node)] = out
        out.lc.line, out.lc.col = node.start_mark.line, node.start_mark.column
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if _tag(key_node) == _MERGE:
                merged += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                continue
            key = _hashable(self.build(key_node))
            out[key] = self.build(value_node)  # a repeated key: its last value, as in GitLab
            key_mark, value_mark = key_node.start_mark, value_node.start_mark
            out.lc.add_kv_line_col(
                key, [key_mark.line, key_mark.column, value_mark.line, value_mark.column]
            )
        for source in (self.build(n) for n in merged):  # earlier merges win, own keys first
            for key, value in source.items():
                if key not in out:
                    out[key] = value
                    out.lc.add_kv_line_col(key, source.lc.data.get(key, [0, 0, 0, 0]))
        return out

    def _sequence(self, node: SequenceNode) -> CommentedSeq:
        out = CommentedSeq()
        self.memo[id(node)] = out
        out.lc.line, out.lc.col = node.start_mark.line, node.start_mark.column
        if _tag(node) == "!reference":
            out.yaml_set_ctag(Tag(suffix="!reference"))
        for index, item in enumerate(node.value):
            out.append(self.build(item))
            out.lc.add_idx_line_col(index, [item.start_mark.line, item.start_mark.column])
        return out
