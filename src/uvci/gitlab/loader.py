"""Read a pipeline the way GitLab does before it looks at jobs: local includes, then ``!reference``.

``load(root, project_dir)`` returns every file read, the merged top-level configuration
(included files first, the including file overriding them) with ``!reference`` tags resolved,
and the includes that could not be checked (remote, project, template, component).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from uvci.errors import FatalError
from uvci.gitlab import yamlio
from uvci.gitlab.nodes import Loc, MergedMap, Registry, TrackedList, deep_merge

MAX_REFERENCE_DEPTH = 10
_OTHER_INCLUDES = ("remote", "project", "template", "component")


@dataclass
class Loaded:
    """The files behind a pipeline and its merged, reference-resolved configuration."""

    documents: list[yamlio.YamlDocument]
    config: MergedMap
    registry: Registry
    not_checked: list[tuple[str, Loc]] = field(default_factory=list)
    round_trip: bool = True


def load(root: Path, project_dir: Path, *, round_trip: bool = True) -> Loaded:
    """Load ``root`` and its local includes; FatalError for bad YAML or a missing include.

    ``round_trip=False``: faster, read-only documents (see :mod:`uvci.gitlab.fastload`).
    """
    loaded = Loaded(documents=[], config=MergedMap(), registry=Registry(), round_trip=round_trip)
    _collect(root, project_dir, loaded, set())
    raw = MergedMap()
    for doc in loaded.documents:
        body = {k: v for k, v in doc.config.items() if k != "include"}
        raw = deep_merge(raw, _sourced(body, doc.config))
    loaded.config = _References(raw, loaded.registry, bool(loaded.not_checked)).top()
    return loaded


def _sourced(body: dict[str, Any], container: Any) -> MergedMap:
    out = MergedMap()
    for key, value in body.items():
        out.put(key, value, container)
    return out


def _collect(path: Path, project_dir: Path, loaded: Loaded, seen: set[Path]) -> None:
    seen.add(path.resolve())
    doc = yamlio.load_file(path, round_trip=loaded.round_trip)
    if doc.config is None:
        doc.documents.append(CommentedMap())
    if not isinstance(doc.config, Mapping):
        raise FatalError(
            f"{path}:1: a pipeline file must be a mapping of keys to jobs; "
            "write `job-name:` keys at the top level"
        )
    loaded.registry.add_tree(doc.config, path)
    for target, loc in _local_includes(doc, loaded):
        for found in _glob_local(target, project_dir, loc):
            if found.resolve() not in seen:
                _collect(found, project_dir, loaded, seen)
    loaded.documents.append(doc)


def _local_includes(doc: yamlio.YamlDocument, loaded: Loaded) -> list[tuple[str, Loc]]:
    value = doc.config.get("include")
    entries = value if isinstance(value, list) else [] if value is None else [value]
    locals_: list[tuple[str, Loc]] = []
    for index, entry in enumerate(entries):
        container, key = (entries, index) if isinstance(value, list) else (doc.config, "include")
        loc = Loc(doc.path, yamlio.line_of(container, key) or 0)
        target = _local_target(entry)
        if target is not None:
            locals_.append((target, loc))
        else:
            loaded.not_checked.append((_describe(entry), loc))
    return locals_


def _local_target(entry: Any) -> str | None:
    if isinstance(entry, str):
        return None if entry.startswith(("http://", "https://")) else entry
    if isinstance(entry, Mapping) and isinstance(entry.get("local"), str):
        return str(entry["local"])
    return None


def _describe(entry: Any) -> str:
    if isinstance(entry, Mapping):
        for kind in _OTHER_INCLUDES:
            if kind in entry:
                return f"{kind}: {entry[kind]}"
    return f"remote: {entry}"


def _glob_local(target: str, project_dir: Path, loc: Loc) -> list[Path]:
    relative = target.lstrip("/")
    if "$" in relative:
        raise FatalError(
            f"{loc}: include '{target}' uses a variable, which uvci cannot follow; "
            "write the path without variables, or check the included file on its own"
        )
    found = sorted(project_dir.glob(relative)) if "*" in relative else [project_dir / relative]
    found = [p for p in found if p.is_file()]
    if not found:
        raise FatalError(
            f"{loc}: include '{target}' not found (looked in {project_dir}); "
            "fix the path or remove the include"
        )
    return found


class _References:
    """Resolves ``!reference`` tags against the merged configuration ``raw``.

    ``lenient``: the pipeline has includes uvci cannot read, so a reference to something
    missing may point into them; it resolves to nothing instead of being an error.
    """

    def __init__(self, raw: MergedMap, registry: Registry, lenient: bool) -> None:
        self.raw, self.registry, self.lenient = raw, registry, lenient

    def top(self) -> MergedMap:
        out = MergedMap()
        for key, value in self.raw.items():
            out.put(key, self.resolve(value, 0), self.raw)
        return out

    def resolve(self, node: Any, depth: int) -> Any:
        if yamlio.is_reference(node):
            return self.resolve(self.follow(node, depth), depth + 1)
        if isinstance(node, Mapping):
            out = MergedMap()
            for key, value in node.items():
                out.put(key, self.resolve(value, depth), node)
            return out
        if isinstance(node, list):
            items = TrackedList()
            for index, item in enumerate(node):
                items.put(self.resolve(item, depth), node, index)
            return items
        return node

    def follow(self, ref: Any, depth: int) -> Any:
        where = Loc(Path(str(self.registry.file_of(ref) or "?")), yamlio.node_line(ref) or 0)
        if depth >= MAX_REFERENCE_DEPTH:
            raise FatalError(
                f"{where}: !reference nested more than {MAX_REFERENCE_DEPTH} levels; "
                "reference the target directly (GitLab allows 10)"
            )
        target: Any = self.raw
        for part in ref:
            if not isinstance(target, Mapping) or part not in target:
                if self.lenient:
                    return []
                shown = ", ".join(str(p) for p in ref)
                raise FatalError(f"{where}: !reference [{shown}] points at nothing; fix the path")
            target = target[part]
        return target
