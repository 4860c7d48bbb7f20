"""The parts of a job doctor and generate reason about: script lines and cache entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from uvci.gitlab.read.nodes import Loc, Registry, as_str_list, flatten, items_of, site_of
from uvci.gitlab.read.variables import expand

SCRIPT_SECTIONS = ("before_script", "script", "after_script")


KeyKind = Literal["default", "static", "variable", "files"]  # default: no key written


@dataclass(frozen=True)
class ScriptLine:
    """One script entry (may hold several shell lines) and the node it was written in."""

    text: str
    section: str
    loc: Loc
    site: tuple[Any, Any]  # (original container, key or index): where a fix edits


@dataclass(frozen=True)
class Cache:
    """One ``cache:`` entry with variables expanded."""

    key_kind: KeyKind
    key: str  # the key text, or the files joined by ","
    key_files: tuple[str, ...]
    prefix: str | None
    key_raw: str  # the key (or prefix) as written, variables unexpanded
    prefix_raw: str | None
    key_node: Any  # the ``key:`` mapping for ``files`` keys, else None
    paths: tuple[str, ...]
    raw_paths: tuple[str, ...]
    policy: str
    loc: Loc
    node: Any  # the resolved cache mapping (follow nodes.origin_of to edit)


def scripts_of(config: Mapping[str, Any], registry: Registry) -> tuple[ScriptLine, ...]:
    lines: list[ScriptLine] = []
    for section in SCRIPT_SECTIONS:
        items = items_of(config, section)
        for index, item in enumerate(items):
            site = site_of(items, index)
            loc = registry.locate(*site)
            lines.append(ScriptLine(str(item), section, loc, site))
    return tuple(lines)


def caches_of(
    config: Mapping[str, Any], variables: Mapping[str, str], registry: Registry
) -> tuple[Cache, ...]:
    value = config.get("cache")
    if isinstance(value, Mapping):
        return (_cache(value, variables, registry.locate(config, "cache")),)
    if isinstance(value, list):  # `- !reference [.x, cache]` nests a list: GitLab flattens it
        entries = flatten(value)
        return tuple(
            _cache(entry, variables, registry.locate(entries, index))
            for index, entry in enumerate(entries)
            if isinstance(entry, Mapping)
        )
    return ()


def _cache(entry: Mapping[str, Any], variables: Mapping[str, str], loc: Loc) -> Cache:
    raw_paths = tuple(as_str_list(entry.get("paths")))
    raw_key = entry.get("key")
    kind, key, files, prefix = _key(raw_key, variables)
    raw_prefix = raw_key.get("prefix") if isinstance(raw_key, Mapping) else None
    return Cache(
        key_kind=kind,
        key=key,
        key_files=files,
        prefix=prefix,
        key_raw="" if raw_key is None or isinstance(raw_key, Mapping) else str(raw_key),
        prefix_raw=None if raw_prefix is None else str(raw_prefix),
        key_node=raw_key if isinstance(raw_key, Mapping) else None,
        paths=tuple(expand(p, variables) for p in raw_paths),
        raw_paths=raw_paths,
        policy=expand(str(entry.get("policy") or "pull-push"), variables),
        loc=loc,
        node=entry,
    )


def _key(
    value: Any, variables: Mapping[str, str]
) -> tuple[KeyKind, str, tuple[str, ...], str | None]:
    if value is None:
        return "default", "default", (), None
    if isinstance(value, Mapping):
        files = tuple(as_str_list(value.get("files")))
        prefix = value.get("prefix")
        expanded = None if prefix is None else expand(str(prefix), variables)
        return "files", ",".join(files), files, expanded
    text = expand(str(value), variables)
    return ("variable" if "$" in str(value) else "static"), text, (), None
