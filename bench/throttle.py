"""A bandwidth limit shared by every connection that goes through one link."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import BinaryIO

CHUNK = 256 * 1024
MB = 1_000_000


class Throttle:
    """Paces bytes through a link of ``rate`` bytes per second (``None``: unlimited).

    Each ``consume(n)`` reserves ``n / rate`` seconds of the link after the reservations
    already made, then sleeps until its slot ends: concurrent transfers share the rate.
    """

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next = 0.0

    def consume(self, nbytes: int) -> None:
        if not self.rate or nbytes <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + nbytes / self.rate
            wake = self._next
        delay = wake - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def copy_stream(
    src: BinaryIO,
    dst: BinaryIO,
    throttle: Throttle,
    limit: int | None = None,
    before_write: Callable[[int], None] | None = None,
) -> int:
    """Copy ``src`` to ``dst`` (at most ``limit`` bytes) at the throttle's pace; bytes copied.

    ``before_write(n)`` is called before each chunk is written, so a counter is up to date by
    the time the reader has the bytes.
    """
    total = 0
    while limit is None or total < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - total)
        chunk = src.read(want)
        if not chunk:
            break
        throttle.consume(len(chunk))
        if before_write is not None:
            before_write(len(chunk))
        dst.write(chunk)
        total += len(chunk)
    return total
