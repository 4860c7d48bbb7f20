"""A read-only YAML loader several times as fast as the round-trip one, for checking only.

It composes with PyYAML's C parser (libyaml) when PyYAML is installed, else with ruamel's
comment-free safe parser, and builds the same ``CommentedMap`` /
``CommentedSeq`` shapes the round-trip loader gives, with the same line information (``lc``),
``!reference`` tags, shared anchored nodes and ``<<`` merge keys, so everything downstream
(locations, resolution, rules) works unchanged. It keeps no comments or styles: anything
that writes a file must load with :func:`uvci.gitlab.yaml.roundtrip.loads` instead. Plain scalars
are resolved as ruamel resolves them (YAML 1.2), whichever parser composed them, so both
loaders read the same values.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedKeyMap, CommentedKeySeq, CommentedMap, CommentedSeq
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

try:  # PyYAML's C parser: several times faster than a pure-Python one
    import yaml as pyyaml
    from yaml import CSafeLoader as _CLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml, or no PyYAML
    pyyaml = None  # type: ignore[assignment]
    _CLoader = None  # type: ignore[assignment,misc]

_MERGE = "tag:yaml.org,2002:merge"
_IMPLICIT = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")
)
# what bad syntax raises, whichever parser read it
ERRORS: tuple[type[Exception], ...] = (pyyaml.YAMLError,) if pyyaml is not None else ()


def compose_all(text: str) -> list[Any]:
    """The documents of ``text`` (raises ruamel's or PyYAML's YAMLError on bad syntax)."""
    yaml = YAML(typ="safe", pure=True)
    builder = _Builder(yaml.constructor, VersionedResolver())
    if _CLoader is None:
        nodes = [node for node in yaml.compose_all(text) if node is not None]
    else:
        nodes = _c_compose(text)
    return [builder.build(node) for node in nodes]


def nesting_beyond(text: str, limit: int) -> int | None:
    """The 1-based line where collections first nest deeper than ``limit``, by libyaml's
    event stream (fast, no recursion), or None (also when PyYAML is missing or the text is not
    valid YAML: the loaders report that)."""
    if _CLoader is None:
        return None
    loader = _CLoader(text)
    depth = 0
    try:
        while (event := loader.get_event()) is not None:
            kind = type(event).__name__
            depth += kind in ("MappingStartEvent", "SequenceStartEvent")
            depth -= kind in ("MappingEndEvent", "SequenceEndEvent")
            if depth > limit:
                return _line(event.start_mark)
    except pyyaml.YAMLError as exc:  # libyaml's own depth limit is a nesting problem too
        return _line(getattr(exc, "problem_mark", None)) if "nesting depth" in str(exc) else None
    finally:
        loader.dispose()
    return None


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def _c_compose(text: str) -> list[Any]:
    assert _CLoader is not None
    loader = _CLoader(text)
    try:
        nodes = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None and not _empty(node):
                nodes.append(node)
        return nodes
    finally:
        loader.dispose()


def _empty(node: Any) -> bool:
    """An empty document (``---`` alone): ruamel composes it as nothing."""
    return _kind(node) == "scalar" and node.value == "" and _tag(node).endswith(":null")


def _kind(node: Any) -> str:
    """``mapping``, ``sequence`` or ``scalar``, for ruamel's and PyYAML's nodes alike."""
    return str(node.id)


def _tag(node: Any) -> str:
    return str(getattr(node.tag, "value", node.tag))


def _hashable(key: Any) -> Any:
    """A sequence or mapping used as a key, frozen as the round-trip loader freezes it."""
    if isinstance(key, CommentedSeq):
        return CommentedKeySeq(key)
    if isinstance(key, CommentedMap):
        return CommentedKeyMap(key)
    return key


class _Builder:
    def __init__(self, scalars: SafeConstructor, resolver: VersionedResolver) -> None:
        self.scalars, self.resolver = scalars, resolver
        self.memo: dict[int, Any] = {}  # anchored nodes are shared, like aliases
        self.open: set[int] = set()  # collections being built: an alias to one is recursive

    def build(self, node: Any) -> Any:
        if id(node) in self.open:
            return None  # a recursive alias: the round-trip loader reads it as null too
        if id(node) in self.memo:
            return self.memo[id(node)]
        kind = _kind(node)
        if kind == "scalar":
            return self._scalar(node)
        self.open.add(id(node))
        try:
            return self._mapping(node) if kind == "mapping" else self._sequence(node)
        finally:
            self.open.discard(id(node))

    def _scalar(self, node: Any) -> Any:
        if not isinstance(node, ScalarNode):  # PyYAML's: resolve it as ruamel does
            tag: Any = node.tag
            if not node.style and tag in _IMPLICIT:  # plain (libyaml says "", not None)
                tag = self.resolver.resolve(ScalarNode, node.value, (True, False))
            elif tag in _IMPLICIT or not tag.startswith("tag:yaml.org,2002:"):
                tag = "tag:yaml.org,2002:str"  # quoted, or a tag we have no constructor for
            node = ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
        return self.scalars.construct_object(node, deep=True)

    def _mapping(self, node: Any) -> CommentedMap:
        out = CommentedMap()
        self.memo[id(node)] = out
        out.lc.line, out.lc.col = node.start_mark.line, node.start_mark.column
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if _tag(key_node) == _MERGE:
                sequence = _kind(value_node) == "sequence"
                merged += value_node.value if sequence else [value_node]
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

    def _sequence(self, node: Any) -> CommentedSeq:
        out = CommentedSeq()
        self.memo[id(node)] = out
        out.lc.line, out.lc.col = node.start_mark.line, node.start_mark.column
        if _tag(node) == "!reference":
            out.yaml_set_ctag(Tag(suffix="!reference"))
        for index, item in enumerate(node.value):
            out.append(self.build(item))
            out.lc.add_idx_line_col(index, [item.start_mark.line, item.start_mark.column])
        return out
