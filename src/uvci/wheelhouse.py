"""The wheelhouse: exactly the files a plan's cells install, verified, for an offline install.

API (the contract in the team notes; ``uvci prefetch`` and ``uvci run`` build on it)::

    fill_wheelhouse(plan, wheelhouse, *, cells=None, jobs=8, reporter=None,
                    interpreters=None, env=None) -> PrefetchResult
    requirements_path(wheelhouse, python) -> Path        # <wheelhouse>/requirements-<python>.txt
    offline_install_command(wheelhouse, python, target_python) -> list[str]   # uv argv, no "uv"
    default_wheelhouse(root) -> Path                      # <root>/.uvci/wheels
    status_paths(wheelhouse) -> StatusPaths               # where `uvci prefetch` reports

``fill_wheelhouse`` removes files no cell of the plan needs (every cell, so a ``cells`` subset
never deletes another cell's files), verifies present files by sha256 (a corrupted one is
fetched again), downloads the missing ones in parallel (:mod:`uvci.download`), builds wheels
from sdist-only packages (:mod:`uvci.sdists`; ``interpreters`` maps a cell's Python to the
interpreter that builds for it, the running interpreter builds for its own cell), writes
``requirements-<python>.txt`` for the chosen cells and ``manifest.json`` (:mod:`uvci.manifest`).
``PrefetchResult.changed`` is true when any file of the wheelhouse differs (name, size or
mtime) from when the call started. A requirements file lists every non-local package of the
cell; the project itself and workspace/path members are not in it (install those separately,
e.g. ``uv pip install --offline --no-index --find-links WH --no-deps .``).

Prefetch outputs (written by ``uvci prefetch``, beside the wheelhouse, outside it, so a GitLab
``after_script`` can read them without uvci; ``W`` is the wheelhouse, default ``.uvci/wheels``):

- ``W.unchanged`` (``.uvci/wheels.unchanged``): exists only after a successful run that
  changed nothing; removed when a run starts;
- ``W.prefetch.json`` (``.uvci/wheels.prefetch.json``): the ``--json`` report of the last
  successful run; removed when a run starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvci.credentials import load_auth
from uvci.download import Fetcher
from uvci.errors import FatalError
from uvci.fill import Builder, Tally, Verifier, keep_names, needed_files, parallel, prune, snapshot
from uvci.manifest import (
    MANIFEST,
    CellEntry,
    FileEntry,
    Manifest,
    Requirement,
    fingerprint,
    load_manifest,
    requirements_text,
    write_if_changed,
)
from uvci.plan import Cell, Plan, Totals
from uvci.platforms import resolve_target
from uvci.progress import Reporter

DEFAULT_WHEELHOUSE = Path(".uvci") / "wheels"


def default_wheelhouse(root: Path) -> Path:
    return root / DEFAULT_WHEELHOUSE


def requirements_path(wheelhouse: Path, python: str) -> Path:
    return wheelhouse / f"requirements-{python}.txt"


def offline_install_command(wheelhouse: Path, python: str, target_python: str) -> list[str]:
    """uv argv (no uv executable) installing cell ``python`` into ``target_python``'s env."""
    return [
        "pip", "install", "--python", str(target_python), "--offline", "--no-index",
        "--find-links", str(wheelhouse), "-r", str(requirements_path(wheelhouse, python)),
    ]  # fmt: skip


@dataclass(frozen=True)
class StatusPaths:
    report: Path  # W.prefetch.json
    unchanged: Path  # W.unchanged


def status_paths(wheelhouse: Path) -> StatusPaths:
    wheelhouse = Path(os.path.abspath(wheelhouse))
    return StatusPaths(
        wheelhouse.with_name(wheelhouse.name + ".prefetch.json"),
        wheelhouse.with_name(wheelhouse.name + ".unchanged"),
    )


@dataclass(frozen=True)
class PrefetchResult:
    changed: bool
    fetched: Totals
    reused: Totals
    built: Totals
    removed: Totals
    wheelhouse: Path
    cells: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "wheelhouse": str(self.wheelhouse),
            "cells": list(self.cells),
            "requirements": {py: str(requirements_path(self.wheelhouse, py)) for py in self.cells},
            **{k: getattr(self, k).to_json() for k in ("fetched", "reused", "built", "removed")},
            "notes": list(self.notes),
        }


def select_cells(plan: Plan, cells: Sequence[str] | None) -> tuple[Cell, ...]:
    if not cells:
        return plan.cells
    by_python = {cell.python: cell for cell in plan.cells}
    unknown = [c for c in cells if c not in by_python]
    if unknown:
        raise FatalError(
            f"cell {', '.join(unknown)} is not in the plan's matrix ({', '.join(plan.pythons)}); "
            "pick one of those, or pass --python to change the matrix"
        )
    return tuple(by_python[c] for c in dict.fromkeys(cells))


def fill_wheelhouse(
    plan: Plan,
    wheelhouse: Path,
    *,
    cells: Sequence[str] | None = None,
    jobs: int = 8,
    reporter: Reporter | None = None,
    interpreters: Mapping[str, str | Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> PrefetchResult:
    """Fill ``wheelhouse`` for the chosen ``cells`` of ``plan`` (all by default); see above."""
    reporter = reporter or Reporter()
    chosen = select_cells(plan, cells)
    _make_dir(wheelhouse)
    before = snapshot(wheelhouse)
    old = load_manifest(wheelhouse)
    tally = Tally()
    sdists = {p.sha256 for c in plan.cells for p in c.packages if p.kind == "sdist"}
    built_old = {n: e for n, e in old.files.items() if e.origin == "built"}
    keep = keep_names(needed_files(plan.cells), built_old, sdists, plan.pythons)
    prune(wheelhouse, keep, reporter, tally)
    needed = needed_files(chosen)
    total = sum(p.size or 0 for p in needed.values())
    reporter.begin(f"wheelhouse {wheelhouse}", len(needed), total)
    fetcher = Fetcher(load_auth(plan.project.root, env), plan.project.root, env)
    verifier = Verifier(wheelhouse, fetcher, reporter)
    files = _verify_and_fetch(verifier, needed, jobs, tally)
    built = _verified_builds(verifier, built_old, keep, jobs, tally)
    builder = Builder(wheelhouse, plan.project.root, resolve_target(plan.platform),
                      interpreters or {}, reporter)  # fmt: skip
    notes = builder.build_cells(chosen, built, tally)
    files.update(built)
    cell_entries = _write_cells(plan, chosen, wheelhouse, files, old)
    manifest = Manifest(
        {n: e for n, e in files.items() if (wheelhouse / n).is_file()}, cell_entries
    )
    _write(wheelhouse / MANIFEST, manifest.dumps())
    return PrefetchResult(
        changed=snapshot(wheelhouse) != before,
        fetched=tally.totals("fetched"),
        reused=tally.totals("reused"),
        built=tally.totals("built"),
        removed=tally.totals("removed"),
        wheelhouse=wheelhouse,
        cells=tuple(c.python for c in chosen),
        notes=tuple(notes) + _cell_notes(chosen),
    )


def _make_dir(wheelhouse: Path) -> None:
    try:
        wheelhouse.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FatalError(f"{wheelhouse}: cannot create the wheelhouse: {exc.strerror}") from None


def _write(path: Path, text: str) -> None:
    try:
        write_if_changed(path, text)
    except OSError as exc:
        raise FatalError(
            f"{path}: cannot write: {exc.strerror}; free some space and retry"
        ) from None


def _verify_and_fetch(
    verifier: Verifier, needed: Mapping[str, Any], jobs: int, tally: Tally
) -> dict[str, FileEntry]:
    results = parallel(list(needed.values()), verifier.ensure, jobs, verifier.fetcher.stop.set)
    files: dict[str, FileEntry] = {}
    for action, name, entry in results:
        tally.add(action, entry.size)
        files[name] = entry
    return files


def _verified_builds(
    verifier: Verifier, built: Mapping[str, FileEntry], keep: set[str], jobs: int, tally: Tally
) -> dict[str, FileEntry]:
    items = [(n, e) for n, e in built.items() if n in keep]
    checked = parallel(items, verifier.check_built, jobs, verifier.fetcher.stop.set)
    kept = dict(item for item in checked if item is not None)
    for entry in kept.values():
        tally.add("reused", entry.size)
    return kept


def _write_cells(
    plan: Plan,
    chosen: Sequence[Cell],
    wheelhouse: Path,
    files: Mapping[str, FileEntry],
    old: Manifest,
) -> dict[str, CellEntry]:
    entries: dict[str, CellEntry] = {}
    for cell in plan.cells:
        if cell in chosen:
            entries[cell.python] = _write_cell(plan, cell, wheelhouse, files)
            continue
        previous = old.cells.get(cell.python)
        path = requirements_path(wheelhouse, cell.python)
        if previous and previous.fingerprint == _fingerprint(cell) and path.is_file():
            entries[cell.python] = previous
        else:
            path.unlink(missing_ok=True)
    return entries


def _fingerprint(cell: Cell) -> str:
    return fingerprint(p.key for p in cell.packages)


def _write_cell(
    plan: Plan, cell: Cell, wheelhouse: Path, files: Mapping[str, FileEntry]
) -> CellEntry:
    requirements = [
        _requirement(plan, p.name, p.version or "", files) for p in cell.packages if p.downloads
    ]
    if any(not r.hashes for r in requirements):
        requirements = [Requirement(r.name, r.version, ()) for r in requirements]
    path = requirements_path(wheelhouse, cell.python)
    _write(path, requirements_text(cell.python, requirements))
    return CellEntry(
        requirements=path.name,
        fingerprint=_fingerprint(cell),
        local=tuple(sorted(p.name for p in cell.packages if p.kind == "local")),
        not_in_wheelhouse=tuple(
            sorted(
                f"{p.name} ({p.kind})" for p in cell.packages if p.kind in ("git", "unavailable")
            )
        ),
    )


def _requirement(
    plan: Plan, name: str, version: str, files: Mapping[str, FileEntry]
) -> Requirement:
    """Every sha256 uv.lock has for ``name==version``, plus wheels built from its sdists."""
    hashes: list[str] = []
    sdists: set[str] = set()
    for package in plan.lock.named(name):
        if package.version != version:
            continue
        dists = [*package.wheels, *([package.sdist] if package.sdist else [])]
        hashes += [d.sha256 for d in dists if d.sha256]
        sdists |= {package.sdist.sha256} if package.sdist and package.sdist.sha256 else set()
    hashes += [e.sha256 for e in files.values() if e.origin == "built" and e.sdist_sha256 in sdists]
    return Requirement(name, version, tuple(hashes))


def _cell_notes(cells: Sequence[Cell]) -> tuple[str, ...]:
    notes = []
    for cell in cells:
        for p in cell.packages:
            if p.kind in ("git", "unavailable"):
                why = "a git source" if p.kind == "git" else "no file in uv.lock fits this cell"
                notes.append(f"{p.name}: {why}; not in the wheelhouse for Python {cell.python}")
    return tuple(notes)
