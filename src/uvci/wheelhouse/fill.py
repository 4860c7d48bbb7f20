"""The wheelhouse: exactly the files a plan's cells install, verified, for an offline install.

API (``uvci prefetch`` and ``uvci run`` build on it)::

    fill_wheelhouse(plan, wheelhouse, *, cells=None, jobs=8, reporter=None,
                    interpreters=None, env=None) -> PrefetchResult
    requirements_path(wheelhouse, python) -> Path        # <wheelhouse>/requirements-<python>.txt
    offline_install_command(wheelhouse, python, target_python) -> list[str]   # uv argv, no "uv"
    default_wheelhouse(root) -> Path                      # <root>/.uvci/wheels
    status_paths(wheelhouse) -> StatusPaths               # where `uvci prefetch` reports

``fill_wheelhouse`` removes files no cell of the plan needs (every cell, so a ``cells`` subset
never deletes another cell's files), verifies present files by sha256 (a corrupted one is
fetched again), downloads the missing ones in parallel (:mod:`.download`), builds wheels
from sdist-only packages (:mod:`.sdists`; ``interpreters`` maps a cell's Python to the
interpreter that builds for it, else the running interpreter builds for its own cell, else the
Python uv finds), writes ``requirements-<python>.txt`` for the chosen cells
(:mod:`.reqfiles`) and ``manifest.json`` (:mod:`.manifest`). Concurrent calls on one
wheelhouse take turns (``flock`` on ``W.lock`` beside it). ``env`` (default ``os.environ``)
supplies the index settings (:mod:`.credentials`, :mod:`.download`).
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

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from uvci.errors import FatalError
from uvci.model.distname import inside
from uvci.model.plan import Cell, Plan, PlannedPackage, Totals
from uvci.model.platforms import resolve_target
from uvci.util.atomicfile import DISK_FULL, write_if_changed
from uvci.util.progress import Reporter
from uvci.wheelhouse.credentials import load_auth
from uvci.wheelhouse.download import Fetcher
from uvci.wheelhouse.manifest import MANIFEST, FileEntry, Manifest, fingerprint, load_manifest
from uvci.wheelhouse.ownership import claim_wheelhouse
from uvci.wheelhouse.phases import (
    Tally,
    Verifier,
    exclusive,
    keep_names,
    needed_files,
    parallel,
    prune,
    remove_entry,
    snapshot,
)
from uvci.wheelhouse.reqfiles import (
    cell_file_names,
    cell_notes,
    requirements_name,
    write_cells,
)
from uvci.wheelhouse.retention import Retain, retainable, retained
from uvci.wheelhouse.sdists import Builder

DEFAULT_WHEELHOUSE = Path(".uvci") / "wheels"


def default_wheelhouse(root: Path) -> Path:
    return root / DEFAULT_WHEELHOUSE


def requirements_path(wheelhouse: Path, python: str) -> Path:
    return wheelhouse / requirements_name(python)


def offline_install_command(wheelhouse: Path, python: str, target_python: str) -> list[str]:
    """uv argv (no uv executable) installing cell ``python`` into ``target_python``'s env."""
    return [
        "pip",
        "install",
        "--python",
        str(target_python),
        "--offline",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "-r",
        str(requirements_path(wheelhouse, python)),
    ]


@dataclass(frozen=True)
class StatusPaths:
    report: Path  # W.prefetch.json
    unchanged: Path  # W.unchanged
    lock: Path  # W.lock: held while a fill runs


def status_paths(wheelhouse: Path) -> StatusPaths:
    wheelhouse = Path(os.path.abspath(wheelhouse))
    beside = wheelhouse.with_name
    return StatusPaths(
        beside(wheelhouse.name + ".prefetch.json"),
        beside(wheelhouse.name + ".unchanged"),
        beside(wheelhouse.name + ".lock"),
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
            **{action: totals.to_json() for action, totals in self.actions()},
            "notes": list(self.notes),
        }

    def actions(self) -> tuple[tuple[str, Totals], ...]:
        """(action, totals) for fetched, reused, built, removed: the order reports use."""
        return (
            ("fetched", self.fetched),
            ("reused", self.reused),
            ("built", self.built),
            ("removed", self.removed),
        )


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
    retain: Retain | None = None,
    build: bool = True,
    elsewhere: frozenset[str] = frozenset(),
) -> PrefetchResult:
    """Fill ``wheelhouse`` for the chosen ``cells`` of ``plan`` (all by default); see above.

    ``retain``: keep files no longer needed within that bound, most recently used first (else
    every file no cell needs is removed); ``build``: build wheels of sdist-only packages (else
    the sdists stay for uv to build at install time); ``elsewhere``: names of needed files a
    caller verified in another wheelhouse (a base, :mod:`.layers`): not fetched, and removed
    from this one. Concurrent calls on one wheelhouse (threads or processes) run one after
    the other.
    """
    chosen = select_cells(plan, cells)
    claim_wheelhouse(wheelhouse)
    try:
        with exclusive(status_paths(wheelhouse).lock, reporter or Reporter()):
            job = _Fill(plan, wheelhouse, chosen, reporter or Reporter(), env)
            job.elsewhere = elsewhere
            return job.run(jobs, interpreters or {}, retain, build)
    except OSError as exc:  # the wheelhouse's file system (network errors are handled inside)
        where = exc.filename or wheelhouse
        why = "disk full" if exc.errno in DISK_FULL else (exc.strerror or str(exc))
        raise FatalError(
            f"{where}: {why}; check the wheelhouse's permissions and free space"
        ) from None


class _Fill:
    """One fill: prune, verify or fetch, build, write; counts what it did."""

    def __init__(
        self,
        plan: Plan,
        wheelhouse: Path,
        chosen: Sequence[Cell],
        reporter: Reporter,
        env: Mapping[str, str] | None,
    ) -> None:
        self.plan, self.wheelhouse, self.chosen, self.reporter = plan, wheelhouse, chosen, reporter
        self.tally = Tally()
        self.elsewhere: frozenset[str] = frozenset()
        self.before = snapshot(wheelhouse)
        self.old = load_manifest(wheelhouse)
        auth = load_auth(plan.project.root, env)
        fetcher = Fetcher(auth, plan.project.root, env, notify=reporter.note)
        self.verifier = Verifier(wheelhouse, fetcher, reporter)

    def run(
        self, jobs: int, interpreters: Mapping[str, str | Path], retain: Retain | None, build: bool
    ) -> PrefetchResult:
        needed = {n: p for n, p in needed_files(self.chosen).items() if n not in self.elsewhere}
        total = sum(p.size or 0 for p in needed.values())
        earlier = self.prune(retain.budget(total) if retain else None)
        self.reporter.begin(f"wheelhouse {display(self.wheelhouse)}", len(needed), total)
        files = self.fetch(needed, jobs)
        built: dict[str, FileEntry] = {}
        notes: tuple[str, ...] = ()
        if build:
            notes = self.build(built, interpreters)
        self.drop(earlier - set(built))
        files.update(built)
        self.write(files, needed)
        return self.result((*notes, *cell_notes(self.chosen)))

    def build(
        self, built: dict[str, FileEntry], interpreters: Mapping[str, str | Path]
    ) -> tuple[str, ...]:
        target = resolve_target(self.plan.platform)
        builder = Builder(
            self.wheelhouse, self.plan.project.root, target, interpreters, self.reporter
        )
        notes = builder.build_cells(self.chosen, built)
        for entry in built.values():
            self.tally.add("built", entry.size)
        return tuple(notes)

    def prune(self, budget: int | None) -> set[str]:
        """Remove what no cell needs; with a ``budget``, keep recently used files within it.

        Returns the earlier builds of the plan's sdists, kept until this run has built them
        again: only this run's builds are trusted (nothing in a restored cache vouches for a
        file), and a rebuild that gives the same bytes leaves the earlier file as it was."""
        plan = self.plan
        reqs = [name for python in plan.pythons for name in cell_file_names(python)]
        keep = keep_names(needed_files(plan.cells), reqs) - self.elsewhere
        sdists = {p.sha256 for c in plan.cells for p in c.packages if p.kind == "sdist"}
        earlier = {
            n for n, e in self.old.files.items()
            if e.origin == "built" and e.sdist_sha256 in sdists and n in self.before
        }  # fmt: skip
        keep |= earlier
        if budget is not None:
            present = {n: size for n, (size, _) in self.before.items()}
            candidates = retainable(present, plan)
            used = {
                n: e.used for n, e in self.old.files.items() if e.used is not None
                and n in candidates
            }  # fmt: skip
            keep |= retained(present, keep, used, budget)
        prune(self.wheelhouse, keep, self.reporter, self.tally)
        return earlier

    def drop(self, names: set[str]) -> None:
        """Remove earlier builds this run did not make again (``--no-build``, no interpreter):
        uv would pick such a wheel over the sdist and reject it by its hash."""
        for name in sorted(names):
            path = inside(self.wheelhouse, name)
            with contextlib.suppress(FileNotFoundError):
                size = path.lstat().st_size
                remove_entry(path)
                self.reporter.file_done("removed", name, size)
                self.tally.add("removed", size)

    def fetch(self, needed: Mapping[str, PlannedPackage], jobs: int) -> dict[str, FileEntry]:
        verifier = self.verifier
        results = parallel(list(needed.values()), verifier.ensure, jobs, verifier.fetcher.stop.set)
        for action, _, entry in results:
            self.tally.add(action, entry.size)
        return {name: entry for _, name, entry in results}

    def write(self, files: Mapping[str, FileEntry], needed: Mapping[str, PlannedPackage]) -> None:
        """Requirement files and the manifest: every dist on disk, with when it was last used
        (files kept for other cells or by ``--retain`` keep their recorded entry)."""
        wheelhouse, old = self.wheelhouse, self.old
        cells = write_cells(self.plan, self.chosen, wheelhouse, files, old)
        needed_id = fingerprint((name, p.sha256) for name, p in needed.items())
        generation = old.generation + (needed_id != old.needed_id)
        present = {
            n: replace(e, used=generation) for n, e in files.items() if (wheelhouse / n).is_file()
        }
        present |= kept_entries(wheelhouse, old.files, present)  # other cells', retained
        manifest = Manifest(present, cells, generation, needed_id)
        write_if_changed(wheelhouse / MANIFEST, manifest.dumps())

    def result(self, notes: tuple[str, ...]) -> PrefetchResult:
        return PrefetchResult(
            changed=snapshot(self.wheelhouse) != self.before,
            fetched=self.tally.totals("fetched"),
            reused=self.tally.totals("reused"),
            built=self.tally.totals("built"),
            removed=self.tally.totals("removed"),
            wheelhouse=self.wheelhouse,
            cells=tuple(c.python for c in self.chosen),
            notes=notes,
        )


def kept_entries(
    wheelhouse: Path, old: Mapping[str, FileEntry], new: Mapping[str, FileEntry]
) -> dict[str, FileEntry]:
    """Recorded entries of files still in the wheelhouse (other cells' after a ``cells``
    subset, retained ones) that this run did not record again: the manifest lists every file
    on disk. A recorded build is listed as a plain file: no later run trusts its hash."""
    kept = {}
    for name, entry in old.items():
        if name in new:
            continue
        try:
            st = inside(wheelhouse, name).lstat()
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size == entry.size:
            kept[name] = replace(entry, origin="lock", sdist=None, sdist_sha256=None)
    return kept


def display(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as given."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative
