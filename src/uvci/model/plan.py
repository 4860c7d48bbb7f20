"""The plan: for each Python of the matrix, exactly which file uv installs, and what it costs.

Built by :func:`uvci.planning.make_plan` from the files; :func:`plan_cells` is the pure part.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from uvci.model.lock import Lock
from uvci.model.patchlevels import full_version
from uvci.model.platforms import resolve_target
from uvci.model.project import Project
from uvci.model.selection import Selection, roots
from uvci.model.walk import Choice, Kind, choose, walk
from uvci.util.redact import redact

Layout = Literal["shared", "per-cell"]  # one wheelhouse for every cell, or one per cell
BUILDABLE_SOURCES = ("editable", "directory")  # local packages uv builds (not virtual ones)
SHARED_LAYOUT_RATIO = 1.25  # one shared wheelhouse while the union is within 25% of a cell


@dataclass(frozen=True)
class PlannedPackage:
    name: str
    version: str | None
    kind: Kind
    file: str | None
    url: str | None
    sha256: str | None
    size: int | None
    source: str

    @property
    def downloads(self) -> bool:
        return self.kind in ("wheel", "sdist")

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.file or self.name, self.sha256)

    def to_json(self) -> dict[str, Any]:
        keys = ("name", "version", "file", "url", "sha256", "size", "kind")
        data = {k: getattr(self, k) for k in keys}
        data["url"] = redact(self.url) if self.url else self.url  # no secret in any output
        return data


@dataclass(frozen=True)
class Cell:
    python: str
    packages: tuple[PlannedPackage, ...]
    full_version: str = ""  # the python_full_version its markers were evaluated at

    @property
    def download_bytes(self) -> int:
        return sum(p.size or 0 for p in self.packages if p.downloads)

    @property
    def build_from_source(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.packages if p.kind in ("sdist", "git"))

    @property
    def unavailable(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.packages if p.kind == "unavailable")

    def to_json(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "python_full_version": self.full_version,
            "packages": [p.to_json() for p in self.packages],
            "download_bytes": self.download_bytes,
            "build_from_source": list(self.build_from_source),
            "unavailable": list(self.unavailable),
        }


@dataclass(frozen=True)
class Totals:
    files: int
    bytes: int

    def to_json(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}


@dataclass(frozen=True)
class Plan:
    project: Project
    lock: Lock
    platform: str
    selection: Selection
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = field(default=())
    lock_unchecked: str | None = None  # why uv.lock's freshness could not be checked (a warning)

    @property
    def warnings(self) -> tuple[str, ...]:
        unchecked = self.lock_unchecked
        return (f"uv.lock freshness not checked: {unchecked}",) if unchecked else ()

    @property
    def pythons(self) -> tuple[str, ...]:
        return tuple(c.python for c in self.cells)

    def _file_counts(self) -> tuple[dict[tuple[str, str | None], PlannedPackage], Counter[Any]]:
        files: dict[tuple[str, str | None], PlannedPackage] = {}
        uses: Counter[Any] = Counter()
        for cell in self.cells:
            for p in cell.packages:
                if p.downloads:
                    files[p.key] = p
                    uses[p.key] += 1
        return files, uses

    @property
    def union(self) -> Totals:
        files, _ = self._file_counts()
        return Totals(len(files), sum(p.size or 0 for p in files.values()))

    @property
    def shared(self) -> Totals:
        files, uses = self._file_counts()
        shared = [p for k, p in files.items() if uses[k] > 1]
        return Totals(len(shared), sum(p.size or 0 for p in shared))

    @property
    def layout(self) -> Layout:
        """``shared`` (one wheelhouse for all cells) or ``per-cell``, whichever costs less."""
        largest = max((c.download_bytes for c in self.cells), default=0)
        if len(self.cells) <= 1 or self.union.bytes <= SHARED_LAYOUT_RATIO * largest:
            return "shared"
        return "per-cell"

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project.name,
            "python": list(self.pythons),
            "platform": self.platform,
            "cells": [c.to_json() for c in self.cells],
            "union": self.union.to_json(),
            "shared": self.shared.to_json(),
            "layout": self.layout,
            "notes": [redact(note) for note in self.notes],
            "warnings": [redact(w) for w in self.warnings],
        }


def plan_cells(
    plan: Plan, pythons: Sequence[str], interpreters: Mapping[str, str] | None = None
) -> Plan:
    """``plan`` with one cell per Python of ``pythons``, each evaluated at its full version."""
    target = resolve_target(plan.platform)
    starts = roots(plan.project, plan.lock, plan.selection)
    cells = []
    for version in pythons:
        full = full_version(version, interpreters)
        packages = walk(plan.lock, starts, target.markers(full))
        priority = target.tag_priority(version)
        planned = tuple(_planned(choose(p, priority)) for p in packages)
        cells.append(Cell(version, planned, full))
    return dataclasses.replace(plan, cells=tuple(cells))


def _planned(choice: Choice) -> PlannedPackage:
    dist = choice.dist
    package = choice.package
    return PlannedPackage(
        name=package.name,
        version=package.version,
        kind=choice.kind,
        file=dist.filename if dist else None,
        url=(dist.url or dist.path) if dist else None,
        sha256=dist.sha256 if dist else None,
        size=(dist.size or 0) if dist else 0,
        source=package.source,
    )


@dataclass(frozen=True)
class LocalPackage:
    name: str
    directory: Path


def local_packages(plan: Plan, python: str) -> tuple[LocalPackage, ...]:
    """The buildable local packages cell ``python`` installs, in lock order."""
    cell = next(c for c in plan.cells if c.python == python)
    names = {p.name for p in cell.packages if p.kind == "local"}
    found: dict[str, LocalPackage] = {}
    for package in plan.lock.packages:
        if package.name in names and package.source_kind in BUILDABLE_SOURCES:
            directory = (plan.project.root / package.source).resolve()
            found[package.name] = LocalPackage(package.name, directory)
    return tuple(found.values())
