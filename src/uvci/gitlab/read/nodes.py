"""Resolved configuration nodes that remember where every key and item was written.

GitLab builds a job's configuration out of several places (included files, ``extends:``
parents, ``!reference`` targets, ``default:``). uvci rebuilds it the same way but keeps, for
every key of a mapping and every item of a list, the *original* ruamel container it came
from, so a finding can point at ``file:line`` and a fix can edit the right node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from uvci.gitlab.yaml import roundtrip


@dataclass(frozen=True)
class Loc:
    """A place in a file: path and 1-based line (0 when unknown)."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class MergedMap(dict[str, Any]):
    """A mapping whose keys each remember the original container (``sources[key]``) and, when
    interpolation renamed them (``$[[ inputs.X ]]``), the key as written (``written[key]``)."""

    sources: dict[str, Any]
    written: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        self.sources = {}
        self.written = {}

    def put(self, key: str, value: Any, source: Any, written: Any = None) -> None:
        self[key] = value
        self.sources[key] = origin_of(source, key)
        if written is None and isinstance(source, MergedMap):
            written = source.written.get(key)
        if written is not None and written != key:
            self.written[key] = written


class TrackedList(list[Any]):
    """A list whose items each remember ``(original container, index)`` in ``sources``."""

    sources: list[tuple[Any, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.sources = []

    def put(self, value: Any, source: Any, index: Any) -> None:
        self.append(value)
        self.sources.append(site_of(source, index))


def origin_of(container: Any, key: str) -> Any:
    """The original ruamel container that holds ``key`` (following merged maps)."""
    if isinstance(container, MergedMap):
        return container.sources.get(key, container)
    return container


def site_of(container: Any, index: Any) -> tuple[Any, Any]:
    """The original ``(container, key-or-index)`` behind an item (following tracked lists)."""
    if isinstance(container, TrackedList):
        source: tuple[Any, Any] = container.sources[index]
        return source
    if isinstance(container, MergedMap):
        return origin_of(container, index), container.written.get(index, index)
    return container, index


class Registry:
    """Which file every original ruamel container was read from."""

    def __init__(self) -> None:
        self._files: dict[int, Path] = {}

    def add_tree(self, node: Any, path: Path) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if not isinstance(current, (CommentedMap, CommentedSeq)) or id(current) in self._files:
                continue
            self._files[id(current)] = path
            stack.extend(current.values() if isinstance(current, CommentedMap) else current)

    def file_of(self, container: Any) -> Path | None:
        return self._files.get(id(container))

    def locate(self, container: Any, key: Any) -> Loc:
        """``file:line`` of ``container[key]`` in the file it was written in."""
        original, original_key = site_of(container, key)
        path = self._files.get(id(original), Path("?"))
        return Loc(path, roundtrip.line_of(original, original_key) or 0)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> MergedMap:
    """GitLab's merge for ``extends``/``include``: mappings merge, everything else is replaced."""
    result = MergedMap()
    for key, value in base.items():
        result.put(key, value, base)
    for key, value in over.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged = deep_merge(current, value)
            result.put(key, merged, over)
        else:
            result.put(key, value, over)
    return result


def flatten(items: list[Any]) -> TrackedList:
    """Flatten nested lists (GitLab does so for scripts, up to 10 levels), keeping sites."""
    out = TrackedList()
    for index, item in enumerate(items):
        if isinstance(item, list):
            nested = flatten(item)
            out.extend(nested)
            out.sources.extend(nested.sources)
        elif item is not None:
            out.put(item, items, index)
    return out


def items_of(mapping: Mapping[str, Any], key: str) -> TrackedList:
    """``mapping[key]`` as a flat tracked list (a lone scalar becomes one item)."""
    value = mapping.get(key)
    if isinstance(value, list):
        return flatten(value)
    out = TrackedList()
    if value is not None:
        out.append(value)
        out.sources.append((origin_of(mapping, key), key))
    return out


def as_str_list(value: Any) -> list[str]:
    """A scalar or list of scalars as a list of strings."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    return [str(item) for item in items if item is not None]
