"""Reading a file that an attacker may have planted: no links, no devices or FIFOs, bounded.

A restored cache chooses every name in it: ``manifest.json`` may be a FIFO (a plain ``open``
blocks forever), a link to ``/dev/zero`` (a plain ``read`` fills memory) or a link to a file
elsewhere. :func:`read_bounded` opens with ``O_NOFOLLOW | O_NONBLOCK`` (a link or a FIFO
never blocks or redirects the read), checks with ``fstat`` that it opened a regular file, and
reads at most ``limit`` bytes; anything else is :class:`UnsafeFile` (an ``OSError``: callers
that already treat an unreadable file as absent keep doing so).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0)
MIB = 1024 * 1024


def _flags(follow: bool) -> int:
    return _FLAGS & ~getattr(os, "O_NOFOLLOW", 0) if follow else _FLAGS


class UnsafeFile(OSError):
    """Not a regular file (a link, FIFO, device, directory), or larger than its bound."""


def read_bounded(path: Path, limit: int, *, follow: bool = False) -> bytes:
    """The bytes of regular file ``path``, at most ``limit`` of them (see the module docstring).

    ``follow``: a link is followed (for files of the checkout, e.g. a linked uv.lock); what it
    reaches must still be a regular file within ``limit``."""
    try:
        fd = os.open(path, _flags(follow))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW on a link
            raise UnsafeFile(exc.errno, "is a symbolic link", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(errno.EINVAL, "is not a regular file", str(path))
        if info.st_size > limit:
            raise UnsafeFile(errno.EFBIG, f"is larger than {limit} bytes", str(path))
        data = _read_at_most(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # grew after fstat
        raise UnsafeFile(errno.EFBIG, f"is larger than {limit} bytes", str(path))
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, MIB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_text_bounded(path: Path, limit: int, *, follow: bool = False) -> str:
    """:func:`read_bounded` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return read_bounded(path, limit, follow=follow).decode("utf-8")


def open_regular(path: Path, *, follow: bool = True) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (a FIFO or device never blocks the
    open and is refused with :class:`UnsafeFile`); ``follow``: a link may lead to it."""
    fd = os.open(path, _flags(follow))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFile(errno.EINVAL, "is not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
