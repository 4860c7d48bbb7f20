"""The phases of :func:`uvci.wheelhouse.fill.fill_wheelhouse`: prune, verify-or-fetch, build.

Each phase takes the wheelhouse and the entries recorded so far and returns what it did, so the
orchestrator in :mod:`uvci.wheelhouse.fill` stays a short list of steps.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from uvci.errors import FatalError
from uvci.model.distname import inside
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
    """Name -> (size, mtime_ns) of every regular file at the top of the wheelhouse (links,
    directories and devices are not files of the wheelhouse: a prune removes them)."""
    out: dict[str, tuple[int, int]] = {}
    for entry in wheelhouse.iterdir():
        st = entry.lstat()
        if stat.S_ISREG(st.st_mode):
            out[entry.name] = (st.st_size, st.st_mtime_ns)
    return out


def remove_entry(path: Path) -> None:
    """Remove ``path`` without following it: a real directory whole, anything else unlinked."""
    if stat.S_ISDIR(path.lstat().st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def prune(wheelhouse: Path, keep: set[str], reporter: Reporter, tally: Tally) -> None:
    """Remove every top-level entry but the regular files in ``keep``: stale dists, temp files,
    stale builds, and whatever a restored cache planted (links, directories, FIFOs, devices,
    also under a kept name)."""
    for entry in sorted(wheelhouse.iterdir()):
        st = entry.lstat()
        if stat.S_ISDIR(st.st_mode) and entry.name.startswith(BUILD_DIR_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif not (entry.name in keep and stat.S_ISREG(st.st_mode)):
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            remove_entry(entry)
            if not entry.name.startswith("."):
                reporter.file_done("removed", printable(entry.name), size)
            tally.add("removed", size)


def printable(name: str) -> str:
    """``name`` as a log may show it: a control character or other oddity comes out escaped."""
    return name if name.isprintable() else repr(name)


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
        path = inside(self.wheelhouse, package.file)
        expected = package.sha256 or self.source_digest(url, package.source)
        if expected is None:
            raise FatalError(
                f"{package.file}: uv.lock records no sha256 for it (none, or another algorithm), "
                "and uvci installs nothing it cannot check against the lock; run `uv lock "
                "--refresh` with an index that serves sha256 and commit uv.lock"
            )
        digest = self.present_digest(path, package.size)
        if digest == expected:
            return "reused", package.file, FileEntry(digest, path.lstat().st_size, "lock")
        if digest is not None:
            self.reporter.note(f"{package.file}: sha256 does not match uv.lock; fetching it again")
        size = self.fetcher.fetch(
            url, path, expected, package.source, self.reporter.advance, package.size or None
        )  # a plan's size 0: uv.lock gives none
        self.reporter.file_done("fetched", package.file, size)
        return "fetched", package.file, FileEntry(expected, size, "lock")

    def source_digest(self, url: str, registry: str) -> str | None:
        """For a file of a local (path) registry, which uv.lock does not hash: the source's."""
        source = self.fetcher.local_path(url, registry)
        return file_sha256(source) if source is not None and source.is_file() else None

    def present_digest(self, path: Path, size: int | None) -> str | None:
        """The sha256 of regular file ``path`` if it is there ("" when its size is already
        wrong, or it is a link, directory or other special file: removed, to be fetched)."""
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(st.st_mode):
            remove_entry(path)
            return ""
        if size and st.st_size != size:
            return ""
        digest = file_sha256(path)
        self.reporter.advance(st.st_size)
        return digest


def keep_names(lock_files: Iterable[str], requirement_files: Iterable[str]) -> set[str]:
    """What a prune always keeps: the plan's dists, manifest, marker and requirement files
    (never a built wheel: nothing in a restored cache vouches for one, so it is built again)."""
    return {*lock_files, *requirement_files, MANIFEST, MARKER}


@contextmanager
def exclusive(lock_file: Path, reporter: Reporter) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (where fcntl exists) for the block."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = _open_lock_file(lock_file)
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


def _open_lock_file(path: Path) -> IO[bytes]:
    """``path`` opened (created) as a regular file of its own: a link, FIFO or directory a
    restored cache left under its name is removed first, never followed or blocked on."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    for _ in range(2):
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                raise
        else:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.set_blocking(fd, True)
                return os.fdopen(fd, "r+b")
            os.close(fd)
        remove_entry(path)
    raise OSError(errno.EEXIST, "cannot be made a regular file", str(path))
