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

``files`` lists every dist in the wheelhouse. A wheel built from an sdist is keyed on the
sdist's sha256, so a later run reuses it for every cell whose tags it fits. ``fingerprint`` is
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT = 1


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


def load_manifest(wheelhouse: Path) -> Manifest:
    """The recorded manifest; an absent or unreadable one is empty (everything is re-verified)."""
    try:
        data = json.loads((wheelhouse / MANIFEST).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return Manifest()
        files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
        cells = {py: _cell(entry) for py, entry in data["cells"].items()}
        generation, needed_id = int(data.get("generation", 0)), str(data.get("needed", ""))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return Manifest()
    return Manifest(files, cells, generation, needed_id)


def _cell(entry: dict[str, Any]) -> CellEntry:
    return CellEntry(
        requirements=str(entry["requirements"]),
        fingerprint=str(entry["fingerprint"]),
        local=tuple(entry.get("local", ())),
        not_in_wheelhouse=tuple(entry.get("not_in_wheelhouse", ())),
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
