"""What the loopback index records of each request, and the faults it injects (stdlib only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    bytes_sent: int
    time: float
    user_agent: str = ""
    seq: int = 0  # order of arrival (set by the index)
    aborted: bool = False  # the client went away before the whole body was sent

    @property
    def filename(self) -> str | None:
        """The dist file name for ``/files/<name>`` requests (not ``.metadata``), else None."""
        if not self.path.startswith("/files/") or self.path.endswith(".metadata"):
            return None
        return unquote(self.path[len("/files/") :])


def read_request_log(path: Path) -> list[Request]:
    """Parse the JSON-lines log written by ``log_path`` / the standalone ``--log``."""
    if not path.exists():
        return []
    by_seq: dict[int, Request] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            request = Request(**json.loads(line))
            by_seq[request.seq] = request  # a later line (an abort) amends an earlier one
    return [by_seq[seq] for seq in sorted(by_seq)]


class Faults:
    """Per file: the status to fail with, or whether to corrupt, and how many more times."""

    def __init__(self) -> None:
        self.fail: dict[str, tuple[int, int | None]] = {}
        self.corrupt: dict[str, tuple[bool, int | None]] = {}

    def take_fail(self, filename: str) -> int | None:
        return _take(self.fail, filename)

    def take_corrupt(self, filename: str) -> bool:
        return _take(self.corrupt, filename) or False


def _take(table: dict[str, tuple[T, int | None]], filename: str) -> T | None:
    """The fault set for ``filename`` (None if none), counting one use off a limited one."""
    if filename not in table:
        return None
    value, times = table[filename]
    if times is not None:
        if times <= 1:
            del table[filename]
        else:
            table[filename] = (value, times - 1)
    return value


def corrupted(data: bytes) -> bytes:
    """Same length, one byte flipped: a size check passes, a sha256 check fails.

    In a zip the flipped byte is the first entry's modification time in its local header, which
    no extractor checks, so the archive stays readable and only the hash tells (what a tampered
    or mixed-up file looks like); in other files it is the middle byte."""
    if not data:
        return b"\0"
    at = 10 if data.startswith(b"PK\x03\x04") and len(data) > 30 else len(data) // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
