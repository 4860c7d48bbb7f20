"""Per-cell ``requirements-<python>.txt`` and the manifest's cell entries.

A requirements file pins every non-local package of the cell, ``name==version``, with every
sha256 uv.lock records for that version plus the sha256 of wheels built from its sdist. With a
hash on every line uv runs in hash-checking mode and verifies whichever locked (or built) file it
picks from the wheelhouse. If the file a cell installs has no hash in the lock (rare: some direct
URLs), no line gets one, since uv accepts hashes on all lines or none.

Beside it, ``SHA256SUMS-<python>`` lists the sha256 of every file of the wheelhouse the cell may
install (its locked dists, wheels built from its sdists) and of the requirements file, in
``sha256sum -c`` format with names relative to the wheelhouse: anyone can check a restored
wheelhouse with ``cd W && sha256sum -c SHA256SUMS-3.12`` (coreutils or busybox), without uvci.
The generated cells rely on uv's hash-checking install instead (the same check, made while uv
reads the files); a cell whose requirements carry no hashes (the rare case above) is checked
only as far as uv can read its files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from uvci.model.plan import Cell, Plan, PlannedPackage
from uvci.util.atomicfile import write_if_changed
from uvci.wheelhouse.manifest import (
    CellEntry,
    FileEntry,
    Manifest,
    Requirement,
    fingerprint,
    requirements_text,
)

NOT_IN_WHEELHOUSE = ("git", "unavailable")


def requirements_name(python: str) -> str:
    return f"requirements-{python}.txt"


def checksums_name(python: str) -> str:
    return f"SHA256SUMS-{python}"


def cell_file_names(python: str) -> tuple[str, str]:
    """The files ``uvci prefetch`` writes for a cell: requirements, checksums."""
    return requirements_name(python), checksums_name(python)


def cell_fingerprint(cell: Cell) -> str:
    return fingerprint(p.key for p in cell.packages)


def write_cells(
    plan: Plan,
    chosen: Sequence[Cell],
    wheelhouse: Path,
    files: Mapping[str, FileEntry],
    old: Manifest,
) -> dict[str, CellEntry]:
    """Write the chosen cells' files; keep other cells' files only while the plan still matches."""
    entries: dict[str, CellEntry] = {}
    for cell in plan.cells:
        if cell in chosen:
            entries[cell.python] = write_cell(plan, cell, wheelhouse, files)
            continue
        previous = old.cells.get(cell.python)
        path = wheelhouse / requirements_name(cell.python)
        if previous and previous.fingerprint == cell_fingerprint(cell) and path.is_file():
            entries[cell.python] = previous
        else:
            for name in cell_file_names(cell.python):
                (wheelhouse / name).unlink(missing_ok=True)
    return entries


def write_cell(
    plan: Plan, cell: Cell, wheelhouse: Path, files: Mapping[str, FileEntry]
) -> CellEntry:
    pins = [requirement(plan, p, files) for p in cell.packages if p.downloads]
    if any(not pin.hashes for pin in pins):
        pins = [Requirement(pin.name, pin.version, ()) for pin in pins]
    path = wheelhouse / requirements_name(cell.python)
    text = requirements_text(cell.python, pins)
    write_if_changed(path, text)
    sums = {path.name: hashlib.sha256(text.encode("utf-8")).hexdigest()}
    sums.update(
        (n, h) for n, h in cell_dist_hashes(cell, files).items() if (wheelhouse / n).is_file()
    )
    write_if_changed(wheelhouse / checksums_name(cell.python), checksums_text(sums))
    missing = (f"{p.name} ({p.kind})" for p in cell.packages if p.kind in NOT_IN_WHEELHOUSE)
    return CellEntry(
        requirements=path.name,
        fingerprint=cell_fingerprint(cell),
        local=tuple(sorted(p.name for p in cell.packages if p.kind == "local")),
        not_in_wheelhouse=tuple(sorted(missing)),
    )


def cell_dist_hashes(cell: Cell, files: Mapping[str, FileEntry]) -> dict[str, str]:
    """File name -> sha256 of the cell's dists in ``files``, and of wheels built from its sdists."""
    names = {p.file for p in cell.packages if p.downloads and p.file}
    sdists = {p.sha256 for p in cell.packages if p.kind == "sdist" and p.sha256}
    return {
        name: entry.sha256
        for name, entry in files.items()
        if name in names or (entry.origin == "built" and entry.sdist_sha256 in sdists)
    }


def checksums_text(sums: Mapping[str, str]) -> str:
    """``sha256sum`` lines (``<hex>  <name>``), sorted by name."""
    return "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))


def requirement(plan: Plan, planned: PlannedPackage, files: Mapping[str, FileEntry]) -> Requirement:
    """Every sha256 uv.lock has for the package's version, plus wheels built from its sdists;
    no hashes at all when the lock has none for the file the cell installs."""
    name, version = planned.name, planned.version or ""
    if planned.sha256 is None:  # a local (path) registry's file: the sha256 of its source
        entry = files.get(planned.file or "")
        return Requirement(name, version, (entry.sha256,) if entry else ())
    hashes: list[str] = []
    sdists: set[str] = set()
    for package in plan.lock.named(name):
        if package.version != version:
            continue
        dists = [*package.wheels, *([package.sdist] if package.sdist else [])]
        hashes += [d.sha256 for d in dists if d.sha256]
        if package.sdist is not None and package.sdist.sha256:
            sdists.add(package.sdist.sha256)
    hashes += [e.sha256 for e in files.values() if e.origin == "built" and e.sdist_sha256 in sdists]
    return Requirement(name, version, tuple(hashes))


def cell_notes(cells: Sequence[Cell]) -> tuple[str, ...]:
    """One line per package a cell needs that no wheelhouse can hold."""
    notes = []
    for cell in cells:
        for p in cell.packages:
            if p.kind in NOT_IN_WHEELHOUSE:
                why = "a git source" if p.kind == "git" else "no file in uv.lock fits this cell"
                notes.append(f"{p.name}: {why}; not in the wheelhouse for Python {cell.python}")
    return tuple(notes)
