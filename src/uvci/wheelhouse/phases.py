"""The phases of :func:`uvci.wheelhouse.fill.fill_wheelhouse`: prune, verify-or-fetch, build.

Each phase takes the wheelhouse and the entries recorded so far and returns what it did, so the
orchestrator in :mod:`uvci.wheelhouse.fill` stays a short list of steps.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from uvci.errors import FatalError
from uvci.model.plan import Cell, PlannedPackage, Totals
from uvci.util.atomicfile import file_sha256
from uvci.util.progress import Reporter
from uvci.wheelhouse.download import Fetcher
from uvci.wheelhouse.manifest import MANIFEST, FileEntry
from uvci.wheelhouse.ownership import MARKER
from uvci.wheelhouse.sdists import BUILD_DIR_PREFIX

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Tally:
    """Files and bytes per action (fetched, reused, built, removed)."""

    counts: dict[str, list[int]] = field(default_factory=dict)

    def add(self, action: str, size: int) -> None:
        files_bytes = self.counts.setdefault(action, [0, 0])
        files_bytes[0] += 1
        files_bytes[1] += size

    def totals(self, action: str) -> Totals:
        files, size = self.counts.get(action, [0, 0])
        return Totals(files, size)


def needed_files(cells: Iterable[Cell]) -> dict[str, PlannedPackage]:
    """Every downloadable file the cells install, by file name (one sha256 per name)."""
    files: dict[str, PlannedPackage] = {}
    for cell in cells:
        for package in cell.packages:
            if not package.downloads or package.file is None:
                continue
            seen = files.setdefault(package.file, package)
            if seen.sha256 != package.sha256:
                raise FatalError(
                    f"{package.file}: uv.lock records two different sha256 for this file "
                    f"({seen.sha256} and {package.sha256}); run `uv lock --refresh`"
                )
    return files


def snapshot(wheelhouse: Path) -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime_ns) of every file at the top of the wheelhouse."""
    out: dict[str, tuple[int, int]] = {}
    for entry in wheelhouse.iterdir():
        if entry.is_file():
            st = entry.stat()
            out[entry.name] = (st.st_size, st.st_mtime_ns)
    return out


def prune(wheelhouse: Path, keep: set[str], reporter: Reporter, tally: Tally) -> None:
    """Remove every top-level file not in ``keep`` (stale dists, temp files) and stale builds."""
    for entry in sorted(wheelhouse.iterdir()):
        if entry.is_dir() and entry.name.startswith(BUILD_DIR_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.name not in keep:
            size = entry.stat().st_size
            entry.unlink()
            if not entry.name.startswith("."):
                reporter.file_done("removed", entry.name, size)
            tally.add("removed", size)


def parallel(
    items: Sequence[T], work: Callable[[T], R], jobs: int, stop: Callable[[], None]
) -> list[R]:
    """``work`` over ``items`` on ``jobs`` threads; the first failure stops the rest, raised."""
    if not items:
        return []
    results: list[R] = []
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(items))))
    try:
        futures: list[Future[R]] = [pool.submit(work, item) for item in items]
        for future in as_completed(futures):
            results.append(future.result())
    except BaseException:
        stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


@dataclass(frozen=True)
class Verifier:
    """Verify a present file by hash, else fetch it."""

    wheelhouse: Path
    fetcher: Fetcher
    reporter: Reporter

    def ensure(self, package: PlannedPackage) -> tuple[str, str, FileEntry]:
        assert package.file is not None
        url = package.url
        if url is None:
            raise FatalError(f"{package.file}: uv.lock gives no URL or path for it; run `uv lock`")
        path = self.wheelhouse / package.file
        expected = package.sha256 or self.source_digest(url, package.source)
        digest = self.present_digest(path, package.size)
        if digest and (expected is None or digest == expected):
            return "reused", package.file, FileEntry(digest, path.stat().st_size, "lock")
        if digest is not None:
            self.reporter.note(f"{package.file}: sha256 does not match uv.lock; fetching it again")
        size = self.fetcher.fetch(url, path, package.sha256, package.source, self.reporter.advance)
        sha = package.sha256 or file_sha256(path)
        self.reporter.file_done("fetched", package.file, size)
        return "fetched", package.file, FileEntry(sha, size, "lock")

    def source_digest(self, url: str, registry: str) -> str | None:
        """For a file of a local (path) registry, which uv.lock does not hash: the source's."""
        source = self.fetcher.local_path(url, registry)
        return file_sha256(source) if source is not None and source.is_file() else None

    def present_digest(self, path: Path, size: int | None) -> str | None:
        """The sha256 of ``path`` if it is there ("" when its size is already wrong)."""
        try:
            actual = path.stat().st_size
        except FileNotFoundError:
            return None
        if size and actual != size:
            return ""
        digest = file_sha256(path)
        self.reporter.advance(actual)
        return digest

    def check_built(self, item: tuple[str, FileEntry]) -> tuple[str, FileEntry] | None:
        """A recorded built wheel, if it is still there with its recorded hash."""
        name, entry = item
        path = self.wheelhouse / name
        if self.present_digest(path, entry.size) == entry.sha256:
            return item
        path.unlink(missing_ok=True)
        self.reporter.note(f"{name}: built wheel missing or corrupted; building it again")
        return None


def keep_names(
    lock_files: Iterable[str],
    built: Mapping[str, FileEntry],
    sdist_hashes: set[str | None],
    requirement_files: Iterable[str],
) -> set[str]:
    """What a prune keeps: the plan's dists, builds of its sdists, manifest, requirement files."""
    keep = {*lock_files, *requirement_files, MANIFEST, MARKER}
    keep |= {name for name, entry in built.items() if entry.sdist_sha256 in sdist_hashes}
    return keep


@contextmanager
def exclusive(lock_file: Path, reporter: Reporter) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (where fcntl exists) for the block."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = lock_file.open("a+b")
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
        yield  # a read-only file system: no run can change it, there is nothing to serialize
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            reporter.note(f"waiting for another uvci using {lock_file.with_suffix('')}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
