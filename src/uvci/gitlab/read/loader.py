"""Read a pipeline the way GitLab does before it looks at jobs: local includes, ``spec: inputs``
interpolation, then ``!reference`` (to a job as ``extends:`` makes it).

``load(root, project_dir)`` returns every file read, the merged top-level configuration
(included files first, the including file overriding them) with ``!reference`` tags resolved,
and the includes that could not be checked (remote, project, template, component). It never
reads a file outside ``project_dir``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from uvci.errors import FatalError
from uvci.gitlab.read.extends import resolve_extends
from uvci.gitlab.read.inputs import Inputs, declared
from uvci.gitlab.read.nodes import Loc, MergedMap, Registry, TrackedList, deep_merge, site_of
from uvci.gitlab.yaml import quirks, roundtrip

MAX_REFERENCE_DEPTH = 10
MAX_NESTING = quirks.MAX_NESTING  # mappings and lists inside each other
MAX_NODES = 100_000  # keys and items after aliases are expanded: an alias bomb stops here
# GitLab refuses a CI file whose parsed size exceeds max_yaml_size_bytes, 2 MB by default
# since GitLab 17.3 (gitlab-org/gitlab!160826, #473777); parsed objects are larger than the
# text, so a file of more bytes than that cannot run on a default instance.
MAX_FILE_BYTES = 2 * 1024 * 1024
_OTHER_INCLUDES = ("remote", "project", "template", "component")


@dataclass
class Loaded:
    """The files behind a pipeline and its merged, reference-resolved configuration."""

    documents: list[roundtrip.YamlDocument]
    config: MergedMap
    registry: Registry
    not_checked: list[tuple[str, Loc]] = field(default_factory=list)
    round_trip: bool = True
    inputs: dict[Path, Inputs] = field(default_factory=dict)


def load(
    root: Path, project_dir: Path, *, round_trip: bool = True, inputs: Mapping[str, Any] = {}
) -> Loaded:
    """Load ``root`` and its local includes; FatalError for bad YAML or a missing include.

    ``round_trip=False``: faster, read-only documents (see :mod:`uvci.gitlab.yaml.fastload`).
    ``inputs``: values of the root file's ``spec: inputs`` (the others take their defaults).
    """
    loaded = Loaded(documents=[], config=MergedMap(), registry=Registry(), round_trip=round_trip)
    _collect(root, project_dir, loaded, set(), inputs)
    raw = MergedMap()
    for doc in loaded.documents:
        body = {k: v for k, v in doc.config.items() if k != "include"}
        raw = deep_merge(raw, _sourced(body, doc.config, loaded.inputs.get(doc.path)))
    loaded.config = _References(raw, loaded, bool(loaded.not_checked)).top()
    return loaded


def _sourced(body: dict[str, Any], container: Any, inputs: Inputs | None) -> MergedMap:
    out = MergedMap()
    for key, value in body.items():
        out.put(inputs.apply(key) if inputs else key, value, container, key)
    return out


def _collect(
    path: Path, project_dir: Path, loaded: Loaded, seen: set[Path], given: Mapping[str, Any]
) -> None:
    seen.add(path.resolve())
    check_size(path)
    doc = roundtrip.load_file(path, round_trip=loaded.round_trip)
    found = declared(doc.header, path, given)
    if found is not None:
        loaded.inputs[path] = found
    if doc.config is None:
        doc.documents.append(CommentedMap())
    if not isinstance(doc.config, Mapping):
        raise FatalError(
            f"{path}:1: a pipeline file must be a mapping of keys to jobs; "
            "write `job-name:` keys at the top level"
        )
    loaded.registry.add_tree(doc.config, path)
    for target, loc, entry_inputs in _local_includes(doc, loaded):
        for included in glob_local(target, project_dir, loc):
            if included.resolve() not in seen:
                _collect(included, project_dir, loaded, seen, entry_inputs)
    loaded.documents.append(doc)


def check_size(path: Path) -> None:
    """FatalError for a file larger than GitLab accepts (read before it is parsed)."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading it says why, with the file's name
    if size > MAX_FILE_BYTES:
        raise FatalError(
            f"{path}: {size / 2**20:.1f} MiB; GitLab refuses a CI file over "
            f"{MAX_FILE_BYTES // 2**20} MiB (max_yaml_size_bytes): split it with `include:`"
        )


def _local_includes(
    doc: roundtrip.YamlDocument, loaded: Loaded
) -> list[tuple[str, Loc, Mapping[str, Any]]]:
    value = doc.config.get("include")
    entries = value if isinstance(value, list) else [] if value is None else [value]
    locals_: list[tuple[str, Loc, Mapping[str, Any]]] = []
    for index, entry in enumerate(entries):
        container, key = (entries, index) if isinstance(value, list) else (doc.config, "include")
        loc = Loc(doc.path, roundtrip.line_of(container, key) or 0)
        target = local_target(entry)
        if target is not None:
            given = entry.get("inputs") if isinstance(entry, Mapping) else None
            locals_.append((target, loc, given if isinstance(given, Mapping) else {}))
        else:
            loaded.not_checked.append((_describe(entry), loc))
    return locals_


def local_target(entry: Any) -> str | None:
    """The local file an ``include:`` (or a trigger's include) names, or None."""
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


def glob_local(target: str, project_dir: Path, loc: Loc) -> list[Path]:
    relative = target.lstrip("/")
    if "$" in relative:
        raise FatalError(
            f"{loc}: include '{target}' uses a variable, which uvci cannot follow; "
            "write the path without variables, or check the included file on its own"
        )
    _inside(project_dir / relative, project_dir, target, loc)
    found = sorted(project_dir.glob(relative)) if "*" in relative else [project_dir / relative]
    found = [p for p in found if p.is_file() and _inside(p, project_dir, target, loc)]
    if not found:
        raise FatalError(
            f"{loc}: include '{target}' not found (looked in {project_dir}); "
            "fix the path or remove the include"
        )
    return found


def _inside(path: Path, project_dir: Path, target: str, loc: Loc) -> bool:
    """True, or FatalError when ``path`` (links followed) leaves the project, as GitLab refuses."""
    if path.resolve().is_relative_to(project_dir.resolve()):
        return True
    raise FatalError(
        f"{loc}: include '{target}' is outside the repository; GitLab includes only files "
        "of the project itself: move the file into the project"
    )


class _References:
    """Resolves ``!reference`` tags against the merged configuration ``raw`` and interpolates
    ``$[[ inputs.X ]]`` in the files that declare inputs.

    ``lenient``: the pipeline has includes uvci cannot read, so a reference to something
    missing may point into them; it resolves to nothing instead of being an error.
    """

    def __init__(self, raw: MergedMap, loaded: Loaded, lenient: bool) -> None:
        self.raw, self.registry, self.lenient = raw, loaded.registry, lenient
        self.inputs = loaded.inputs
        self.nodes = 0
        self.extended: dict[str, MergedMap] | None = None

    def top(self) -> MergedMap:
        out = MergedMap()
        for key, value in self.raw.items():
            out.put(key, self.resolve(value, 0), self.raw)
        return out

    def resolve(self, node: Any, depth: int, level: int = 0) -> Any:
        if roundtrip.is_reference(node):
            return self.resolve(self.follow(node, depth), depth + 1, level)
        if isinstance(node, Mapping):
            self._count(node, level)
            out = MergedMap()
            for key, value in node.items():
                container, written = site_of(node, key)
                new_key, new_value = self._interpolate(key, value, container, written)
                out.put(new_key, self.resolve(new_value, depth, level + 1), container, written)
            return out
        if isinstance(node, list):
            self._count(node, level)
            items = TrackedList()
            for index, item in enumerate(node):
                container, at = site_of(node, index)
                _, value = self._interpolate(None, item, container, at)
                items.put(self.resolve(value, depth, level + 1), node, index)
            return items
        return node

    def _interpolate(self, key: Any, value: Any, container: Any, at: Any) -> tuple[Any, Any]:
        inputs = self._inputs_of(container)
        if inputs is None:
            return key, value
        new = inputs.apply(value)
        if isinstance(new, list) and new is not value:  # an array input: items point at `at`
            spread = TrackedList()
            for item in new:
                spread.append(item)
                spread.sources.append((container, at))
            new = spread
        return inputs.apply(key), new

    def _inputs_of(self, container: Any) -> Inputs | None:
        path = self.registry.file_of(container) if self.inputs else None
        return None if path is None else self.inputs.get(path)

    def _count(self, node: Any, level: int) -> None:
        self.nodes += len(node)
        if level <= MAX_NESTING and self.nodes <= MAX_NODES:
            return
        where = self.registry.file_of(node) or "the pipeline"
        what = (
            f"nests mappings and lists more than {MAX_NESTING} levels deep"
            if level > MAX_NESTING
            else f"expands to more than {MAX_NODES} values (aliases of aliases?)"
        )
        raise FatalError(f"{where}: {what}; GitLab refuses such a file too: simplify it")

    def follow(self, ref: Any, depth: int) -> Any:
        where = Loc(Path(str(self.registry.file_of(ref) or "?")), roundtrip.node_line(ref) or 0)
        if depth >= MAX_REFERENCE_DEPTH:
            raise FatalError(
                f"{where}: !reference nested more than {MAX_REFERENCE_DEPTH} levels; "
                "reference the target directly (GitLab allows 10)"
            )
        inputs = self._inputs_of(ref)
        parts = [inputs.apply(part) if inputs else part for part in ref]
        target: Any = self.raw
        for index, part in enumerate(parts):
            if not isinstance(target, Mapping) or part not in target:
                if self.lenient:
                    return []
                shown = ", ".join(str(p) for p in parts)
                raise FatalError(f"{where}: !reference [{shown}] points at nothing; fix the path")
            target = self._extended(part) if index == 0 else target[part]
        return target

    def _extended(self, name: Any) -> Any:
        """Top-level ``name`` with its ``extends:`` merged in (GitLab resolves extends first)."""
        node = self.raw[name]
        if not isinstance(node, Mapping) or "extends" not in node:
            return node
        if self.extended is None:
            templates = {k: v for k, v in self.raw.items() if isinstance(v, Mapping)}
            self.extended = resolve_extends(templates, self.registry, lenient=True)
        return self.extended[name]
