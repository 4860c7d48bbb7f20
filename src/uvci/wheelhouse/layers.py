"""Base + delta: two wheelhouses per cell, so a lock change uploads only what it added.

The generated pipeline caches each cell's files under two keys: a large **base**, rarely
rewritten, and a small **delta** that takes what new locks add. :func:`fill_layered`:

1. verifies, by sha256, the needed files the base holds (a file that fails is removed from the
   base, which is then rewritten: uv must never find two different files of one name);
2. fills the delta with the rest (:func:`uvci.wheelhouse.fill.fill_wheelhouse` with
   ``elsewhere``), keeping, within ``--retain``, files recent locks needed;
3. rewrites the base only when the delta has grown past its bound (:func:`rewrite_due`):
   the delta's files move into the base, the base is filled and pruned as one wheelhouse, the
   delta is emptied. Both caches are then uploaded once.

Nothing here vouches for a file: the pipeline installs with uv's ``--require-hashes`` against
the checked-out uv.lock; the verification only decides what to fetch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from uvci.model.plan import Plan, PlannedPackage
from uvci.util.atomicfile import file_sha256
from uvci.util.progress import Reporter
from uvci.wheelhouse.fill import PrefetchResult, fill_wheelhouse, select_cells
from uvci.wheelhouse.manifest import MANIFEST, load_manifest
from uvci.wheelhouse.ownership import MARKER, claim_wheelhouse
from uvci.wheelhouse.phases import needed_files, parallel, remove_entry, snapshot
from uvci.wheelhouse.retention import Retain

REWRITE_FACTOR = 2  # see rewrite_due
DISTS = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True)
class LayeredResult:
    delta: PrefetchResult  # the delta's fill (after a rewrite: the base's)
    base_changed: bool
    delta_changed: bool
    rewrote: bool
    base_bytes: int
    delta_bytes: int


@dataclass(frozen=True)
class FillArgs:
    """What :func:`fill_wheelhouse` takes besides the plan and the wheelhouse."""

    cells: Sequence[str] | None = None
    jobs: int = 8
    reporter: Reporter | None = None
    interpreters: Mapping[str, str | Path] | None = None
    env: Mapping[str, str] | None = None
    retain: Retain | None = None
    build: bool = True


def rewrite_due(delta_bytes: int, locks_since_rewrite: int, base_bytes: int) -> bool:
    """Rewrite the base once the delta's uploads since the last rewrite add up to about one
    base upload.

    Each lock change uploads the whole delta; with deltas of similar size the sum of those
    uploads over ``g`` locks is about ``g * delta / 2``. Rewriting when that reaches the base's
    size is the rent-or-buy rule: the uploads never exceed twice what the best rewrite schedule
    would upload, whatever the bumps, and the delta stays small against the base (at most the
    base's size, 2/g of it after g locks) so every warm restore stays cheap. An empty base
    (a cold cache) is written at once.
    """
    return locks_since_rewrite * delta_bytes >= REWRITE_FACTOR * base_bytes


def fill_layered(plan: Plan, base: Path, delta: Path, args: FillArgs) -> LayeredResult:
    base, delta = claim_wheelhouse(base), claim_wheelhouse(delta)
    base_before, delta_before = snapshot(base), snapshot(delta)
    needed = needed_files(select_cells(plan, args.cells))
    in_base, corrupt = _verified(base, needed, args.jobs)
    for name in corrupt:
        remove_entry(base / name)  # a link itself, a directory, a FIFO: never what it points to
    retain = _delta_retain(args.retain, needed, in_base)
    result = _fill(plan, delta, args, retain, frozenset(in_base))
    locks = max(1, load_manifest(delta).generation - 1)  # generation 1: the emptied delta's
    rewrote = bool(corrupt) or (
        result.changed and rewrite_due(_dist_bytes(delta), locks, _dist_bytes(base))
    )
    if rewrote:
        result = _rewrite(plan, base, delta, args)
    return LayeredResult(
        delta=result,
        base_changed=snapshot(base) != base_before,
        delta_changed=snapshot(delta) != delta_before,
        rewrote=rewrote,
        base_bytes=_dist_bytes(base),
        delta_bytes=_dist_bytes(delta),
    )


def _fill(
    plan: Plan, wheelhouse: Path, args: FillArgs, retain: Retain | None,
    elsewhere: frozenset[str] = frozenset(),
) -> PrefetchResult:  # fmt: skip
    return fill_wheelhouse(
        plan, wheelhouse, cells=args.cells, jobs=args.jobs, reporter=args.reporter,
        interpreters=args.interpreters, env=args.env, retain=retain, build=args.build,
        elsewhere=elsewhere,
    )  # fmt: skip


def _delta_retain(
    retain: Retain | None, needed: Mapping[str, PlannedPackage], in_base: Mapping[str, int]
) -> Retain | None:
    """``--retain`` measured against the cell's whole set (base + delta), as one wheelhouse
    would be: a lock whose files are all in the base still keeps the delta's recent files."""
    if retain is None:
        return None
    total = sum(p.size or 0 for p in needed.values())
    return Retain(size=max(0, retain.budget(total) - sum(in_base.values())))


def _verified(
    base: Path, needed: Mapping[str, PlannedPackage], jobs: int
) -> tuple[dict[str, int], list[str]]:
    """(name -> size of each needed file the base holds with the lock's sha256, names of
    needed files the base holds with another content)."""
    # every entry under a needed name, links and special files too (a snapshot lists regular
    # files only): each is checked, and anything but the right regular file is replaced
    items = [p for name, p in needed.items() if p.sha256 and os.path.lexists(base / name)]

    def check(package: PlannedPackage) -> tuple[str, bool]:
        assert package.file is not None
        path = base / package.file
        if not _plain_file(path):  # a link is never followed: removed, fetched again
            return package.file, False
        if package.size and path.stat().st_size != package.size:
            return package.file, False
        return package.file, file_sha256(path) == package.sha256

    checked = parallel(items, check, jobs, lambda: None)
    good = {name: (base / name).stat().st_size for name, ok in checked if ok}
    return good, sorted(name for name, ok in checked if not ok)


def _rewrite(plan: Plan, base: Path, delta: Path, args: FillArgs) -> PrefetchResult:
    """The delta's files into the base, the base filled and pruned as one wheelhouse (its own
    ``--retain``), the delta emptied: no dist, its lock count back to 1."""
    for entry in delta.iterdir():  # names as the directory lists them: never a path elsewhere
        if entry.name.endswith(DISTS) and not entry.name.startswith(".") and _plain_file(entry):
            os.replace(entry, base / entry.name)
    result = _fill(plan, base, args, args.retain)
    for entry in delta.iterdir():
        if entry.name != MARKER and _plain_file(entry):
            entry.unlink()
    everything = frozenset(needed_files(plan.cells))  # the delta's own files, as a fill
    _fill(plan, delta, args, Retain(size=0), everything)  # with nothing new writes them
    return replace(result, wheelhouse=base)


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _dist_bytes(wheelhouse: Path) -> int:
    """Bytes of the files a cache archive of ``wheelhouse`` carries (its metadata is small)."""
    return sum(size for name, (size, _) in snapshot(wheelhouse).items() if name != MANIFEST)
