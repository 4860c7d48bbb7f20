"""The wheelhouse's ``manifest.json`` and its ``requirements-<python>.txt`` files.

``manifest.json`` (format 1, deterministic: the same content gives the same bytes)::

    {"format": 1,
     "files": {"<filename>": {"sha256": "...", "size": 123, "origin": "lock"},
               "<built wheel>": {"sha256": "...", "size": 45, "origin": "built",
                                 "sdist": "<sdist filename>", "sdist_sha256": "..."}},
     "cells": {"3.12": {"requirements": "requirements-3.12.txt", "fingerprint": "...",
                        "local": ["my-app"], "not_in_wheelhouse": ["pkg (git)"]}},
     "generation": 3, "needed": "<fingerprint of the files the last fill needed>"}

A file's ``used`` is the generation of the last fill that needed it; a fill that needs another
set of files than the last one starts a new generation. ``--retain`` keeps files no longer
needed, most recently used first, within its bound. The manifest comes from a cache, so it is
never trusted for integrity: every file a fill needs is checked against uv.lock's sha256.

``files`` lists every dist in the wheelhouse. A wheel built from an sdist records the sdist's
sha256: a later run keeps the file only while it builds it again (the same bytes leave it
untouched), never on the record's word. Entries whose name is not a plain distribution file
name, or whose fields have the wrong type, are dropped when read. ``fingerprint`` is
a digest of the cell's planned files: a cell whose fingerprint still matches the plan keeps its
requirements file when another cell is refreshed alone (``--cell``).

A requirements file pins every non-local package of the cell, ``name==version``, with every
sha256 uv.lock records for that version plus the hashes of wheels built from its sdist. Hashes
on every line switch uv to hash-checking mode, so each file uv picks from the wheelhouse is
verified, whichever of the locked files it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from uvci.model.distname import plain_dist_name
from uvci.util.saferead import read_text_bounded

MANIFEST = "manifest.json"
FORMAT = 1
T = TypeVar("T")


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    origin: str  # lock | built
    sdist: str | None = None
    sdist_sha256: str | None = None
    used: int | None = None  # the manifest's generation when a fill last needed the file

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class CellEntry:
    requirements: str
    fingerprint: str
    local: tuple[str, ...] = ()
    not_in_wheelhouse: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    cells: Mapping[str, CellEntry] = field(default_factory=dict)
    generation: int = 0  # +1 each time a fill needs another set of files (a new lock)
    needed_id: str = ""  # the fingerprint of the files the last fill needed

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "generation": self.generation,
            "needed": self.needed_id,
            "files": {name: self.files[name].to_json() for name in sorted(self.files)},
            "cells": {py: self.cells[py].to_json() for py in sorted(self.cells)},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n"


MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a wheelhouse of 10,000 files takes ~2 MB


def load_manifest(wheelhouse: Path) -> Manifest:
    """The recorded manifest, as a hint: an absent, unreadable, oversized or deeply nested one
    is empty, and so is any entry whose name is not a plain distribution file name or whose
    fields have the wrong type (everything is re-verified against uv.lock anyway)."""
    try:
        text = read_text_bounded(wheelhouse / MANIFEST, MAX_MANIFEST_BYTES)
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return Manifest()
        files = _entries(data.get("files"), _file)
        cells = _entries(data.get("cells"), _cell)
        generation, needed_id = _whole(data.get("generation", 0)), str(data.get("needed", ""))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return Manifest()
    return Manifest(files, cells, generation or 0, needed_id)


def _entries(raw: object, make: Callable[[str, Any], T | None]) -> dict[str, T]:
    if not isinstance(raw, dict):
        return {}
    made = {key: make(key, value) for key, value in raw.items() if isinstance(key, str)}
    return {key: value for key, value in made.items() if value is not None}


def _whole(value: object) -> int | None:
    """A whole number of at least 0 (not a bool, not a string), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _file(name: str, entry: Any) -> FileEntry | None:
    """One ``files`` entry, or None when its name or a field is not what uvci writes."""
    if not plain_dist_name(name) or not isinstance(entry, dict):
        return None
    sha, size, origin = _text(entry.get("sha256")), _whole(entry.get("size")), entry.get("origin")
    sdist = entry.get("sdist")
    if sha is None or size is None or origin not in ("lock", "built"):
        return None
    if sdist is not None and not plain_dist_name(sdist):
        return None
    used = entry.get("used")
    if used is not None and _whole(used) is None:
        used = None  # a forged or damaged record: the file counts as never used
    return FileEntry(sha, size, origin, sdist, _text(entry.get("sdist_sha256")), used)


def _cell(python: str, entry: Any) -> CellEntry | None:
    if not isinstance(entry, dict):
        return None
    requirements, fingerprint = _text(entry.get("requirements")), _text(entry.get("fingerprint"))
    if requirements is None or fingerprint is None:
        return None
    return CellEntry(
        requirements=requirements,
        fingerprint=fingerprint,
        local=tuple(str(x) for x in entry.get("local", ()) if isinstance(x, str)),
        not_in_wheelhouse=tuple(
            str(x) for x in entry.get("not_in_wheelhouse", ()) if isinstance(x, str)
        ),
    )


def fingerprint(keys: Iterable[tuple[str, str | None]]) -> str:
    text = "\n".join(f"{name} {sha}" for name, sha in sorted(keys, key=str))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    hashes: tuple[str, ...]

    def line(self) -> str:
        pins = [f"{self.name}=={self.version}"]
        pins += [f"    --hash=sha256:{digest}" for digest in sorted(set(self.hashes))]
        return " \\\n".join(pins)


def requirements_text(python: str, requirements: Sequence[Requirement]) -> str:
    header = (
        f"# Python {python}: generated by `uvci prefetch` from uv.lock; do not edit. Install:\n"
        f"#   uv pip install --offline --no-index --find-links <wheelhouse> "
        f"-r requirements-{python}.txt\n"
    )
    body = "".join(req.line() + "\n" for req in sorted(requirements, key=lambda r: r.name))
    return header + body
