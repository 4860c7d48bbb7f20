"""Cache archives as the GitLab runner makes them: zip (deflate, the default) or tar+zstd.

The runner archives the cache ``paths`` relative to the build directory, directories included,
and restores modification times on extraction (its "is the archive up to date?" check compares
them with the archive's time). ``CACHE_COMPRESSION_FORMAT=tarzstd`` selects tar+zstd. Its zip
archiver with ``FF_USE_FASTZIP`` stores entries uncompressed at ``CACHE_COMPRESSION_LEVEL:
fastest`` (gitlab-runner commands/helpers/archive/fastzip/zip_fastzip_archiver.go: fastest ->
``zip.Store``): ``fastest=True`` with zip does the same here.
"""

from __future__ import annotations

import os
import stat
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import zstandard

Format = Literal["zip", "tarzstd"]
FORMATS: tuple[Format, ...] = ("zip", "tarzstd")
ZSTD_LEVEL = 3  # zstd's default level: the runner's CACHE_COMPRESSION_LEVEL "default"
ZSTD_FASTEST = 1  # CACHE_COMPRESSION_LEVEL "fastest"


def walk(workdir: Path, paths: tuple[str, ...]) -> Iterator[Path]:
    """Every directory and file under ``paths`` (relative to ``workdir``), sorted."""
    for rel in paths:
        root = workdir / rel
        if not root.exists():
            continue
        yield root
        if root.is_dir() and not root.is_symlink():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                base = Path(dirpath)
                for name in [*dirnames, *sorted(filenames)]:
                    yield base / name


def newest_mtime(workdir: Path, paths: tuple[str, ...]) -> float | None:
    """The newest modification time under ``paths``; ``None`` when nothing matches."""
    times = [p.lstat().st_mtime for p in walk(workdir, paths)]
    return max(times) if times else None


def create(
    workdir: Path, paths: tuple[str, ...], out: Path, fmt: Format, *, fastest: bool = False
) -> None:
    """Archive ``paths`` under ``workdir`` into ``out`` in ``fmt``."""
    entries = list(walk(workdir, paths))
    if fmt == "zip":
        _create_zip(workdir, entries, out, zipfile.ZIP_STORED if fastest else zipfile.ZIP_DEFLATED)
    else:
        _create_tarzstd(workdir, entries, out, ZSTD_FASTEST if fastest else ZSTD_LEVEL)


def _create_zip(workdir: Path, entries: list[Path], out: Path, method: int) -> None:
    with zipfile.ZipFile(out, "w", compression=method) as zf:
        for path in entries:
            arcname = path.relative_to(workdir).as_posix()
            if path.is_symlink():
                zf.writestr(_link_info(path, arcname), os.readlink(path))
            else:
                zf.write(path, arcname)


def _link_info(path: Path, arcname: str) -> zipfile.ZipInfo:
    """A zip entry for a symlink (stored as a link, like the runner's archiver does)."""
    info = zipfile.ZipInfo(arcname, time.localtime(path.lstat().st_mtime)[:6])
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def _create_tarzstd(workdir: Path, entries: list[Path], out: Path, level: int) -> None:
    compressor = zstandard.ZstdCompressor(level=level, threads=-1)
    with (
        out.open("wb") as raw,
        compressor.stream_writer(raw) as zw,
        tarfile.open(fileobj=zw, mode="w|") as tar,
    ):
        for path in entries:
            tar.add(path, path.relative_to(workdir).as_posix(), recursive=False)


def extract(archive: Path, workdir: Path, fmt: Format) -> None:
    """Extract ``archive`` into ``workdir``, restoring modification times."""
    if fmt == "zip":
        _extract_zip(archive, workdir)
    else:
        _extract_tarzstd(archive, workdir)


def _extract_tarzstd(archive: Path, workdir: Path) -> None:
    later: list[tuple[Path, float]] = []  # directories and links: their times are set last
    with (
        archive.open("rb") as raw,
        zstandard.ZstdDecompressor().stream_reader(raw) as reader,
        tarfile.open(fileobj=reader, mode="r|") as tar,
    ):
        for member in tar:
            tar.extract(member, workdir, filter="fully_trusted")
            if member.isdir() or member.issym():
                later.append((workdir / member.name, float(member.mtime)))
    _set_times(later)


def _set_times(entries: list[tuple[Path, float]]) -> None:
    """Restore times of directories (deepest first) and symlinks themselves, after their content."""
    for path, mtime in sorted(entries, key=lambda e: len(e[0].parts), reverse=True):
        os.utime(path, (mtime, mtime), follow_symlinks=False)


def _extract_zip(archive: Path, workdir: Path) -> None:
    later: list[tuple[Path, float]] = []
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            mtime = time.mktime((*info.date_time, 0, 0, -1))
            if stat.S_ISLNK(info.external_attr >> 16):
                later.append((_extract_link(zf, info, workdir), mtime))
                continue
            target = Path(zf.extract(info, workdir))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
            if info.is_dir():
                later.append((target, mtime))
            else:
                os.utime(target, (mtime, mtime))
    _set_times(later)


def _extract_link(zf: zipfile.ZipFile, info: zipfile.ZipInfo, workdir: Path) -> Path:
    target = workdir / info.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(zf.read(info).decode())
    return target
