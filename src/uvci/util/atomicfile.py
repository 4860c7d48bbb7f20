"""Files written whole or not at all: temp file in the same directory, then ``os.replace``.

Every file uvci writes goes through here: :func:`write_atomic` (text or bytes),
:func:`write_if_changed`, and :func:`write_verified` for downloads.

:func:`write_verified` streams chunks into ``.<name>.<random>.part`` (a name no installer takes for
a dist), checks length and sha256, and only then renames it into place; any failure or
interruption removes the temp file. File-system errors become one clear :class:`FatalError`
(a full disk says so); a short or corrupted stream raises :class:`VerifyError` for the caller to
retry. Files get the usual ``0666 & ~umask`` mode (``mkstemp`` alone would make them 0600).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from uvci.errors import FatalError
from uvci.util.saferead import read_bounded

Progress = Callable[[int], None]
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_UMASK = os.umask(0o022)  # read the umask once, at import (single-threaded), and restore it
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # mkstemp makes 0600 files; a wheelhouse is read by others too


class VerifyError(Exception):
    """The stream was cut short or its sha256 is not the expected one (worth a retry)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def temp_name_prefix(filename: str) -> str:
    return f".{filename}."


def write_verified(
    chunks: Iterator[bytes],
    dest: Path,
    sha256: str | None,
    progress: Progress,
    length: int | None = None,
) -> int:
    """Stream ``chunks`` into ``dest`` atomically; ``VerifyError`` on a short read or hash mismatch.

    Errors of the wheelhouse's file system are a :class:`FatalError` (never retried)."""
    try:
        fd, temp = tempfile.mkstemp(
            dir=dest.parent, prefix=temp_name_prefix(dest.name), suffix=".part"
        )
    except OSError as exc:
        raise write_error(exc, dest) from None
    try:
        digest, size = _write_all(fd, chunks, dest, progress)
        if length is not None and size != length:
            raise VerifyError(f"connection closed after {size} of {length} bytes")
        if sha256 is not None and digest != sha256:
            raise VerifyError(f"sha256 mismatch: uv.lock has {sha256}, got {digest} ({size} bytes)")
        _fs(lambda: os.replace(temp, dest), dest)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return size


def _write_all(fd: int, chunks: Iterator[bytes], dest: Path, progress: Progress) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb", buffering=0) as out:
        _fs(lambda: os.fchmod(fd, FILE_MODE), dest)
        for chunk in chunks:
            _fs(functools.partial(_write_fully, out, chunk), dest)
            digest.update(chunk)
            size += len(chunk)
            progress(len(chunk))
    return digest.hexdigest(), size


def _write_fully(out: IO[bytes], chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        written = out.write(view)
        view = view[written or 0 :]


def _fs(action: Callable[[], object], dest: Path) -> None:
    """Run a file-system ``action`` for ``dest``; its OSError becomes a clear FatalError."""
    try:
        action()
    except OSError as exc:
        raise write_error(exc, dest) from None


def write_error(exc: OSError, dest: Path) -> FatalError:
    """The one line for a failed write of ``dest``: a full disk says so and how much is free."""
    if exc.errno in DISK_FULL:
        free = shutil.disk_usage(dest.parent).free
        return FatalError(
            f"{dest.parent}: disk full while writing {dest.name} ({free // 1024} KiB free); "
            "free some space (or point --wheelhouse elsewhere) and run again; nothing was "
            "left half-written"
        )
    return FatalError(
        f"{dest.parent}: cannot write {dest.name}: {exc.strerror or exc}; check that the "
        "directory exists and is writable"
    )


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (temp file beside it, then ``os.replace``).

    An existing file keeps its mode; a new one gets ``0666 & ~umask``. A file-system error is
    one :class:`FatalError` naming the file (:func:`write_error`)."""
    try:
        mode = _kept_mode(path)
        fd, temp = tempfile.mkstemp(
            dir=path.parent, prefix=temp_name_prefix(path.name), suffix=".part"
        )
    except OSError as exc:
        raise write_error(exc, path) from None
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(fd, mode)
            out.write(raw)
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_error(exc, path) from None
        raise


def _kept_mode(path: Path) -> int:
    """The mode of the regular file at ``path`` (a link or special file is not followed)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return FILE_MODE
    return st.st_mode & 0o7777 if stat.S_ISREG(st.st_mode) else FILE_MODE


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` atomically unless ``path`` already holds it; True when written.

    The old content is read as :func:`uvci.util.saferead.read_bounded` reads (no link, FIFO or
    device followed, no more bytes than ``text`` has): whatever else sits there is replaced."""
    raw = text.encode("utf-8")
    try:
        if read_bounded(path, len(raw)) == raw:
            return False
    except OSError:
        pass
    write_atomic(path, text)
    return True


STATE_DIR = ".uvci"
_IGNORE_ALL = (
    "# Created by uvci: wheelhouses, environments and reports; nothing here belongs in git\n*\n"
)


def keep_out_of_git(root: Path, *inside: Path) -> None:
    """Give ``root/.uvci`` a ``.gitignore`` of ``*`` (as venvs do) when any of ``inside`` lies
    in it, so ``git add -A`` after ``uvci run`` or ``prefetch`` adds none of it."""
    state = Path(os.path.abspath(root / STATE_DIR))
    if not any(Path(os.path.abspath(p)).is_relative_to(state) for p in inside):
        return
    ignore = state / ".gitignore"
    if ignore.exists():
        return
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(exc, ignore) from None
    write_if_changed(ignore, _IGNORE_ALL)
