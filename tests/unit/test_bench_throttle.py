"""bench/throttle.py: the shared bandwidth limit really paces bytes."""

from __future__ import annotations

import io
import threading
import time

from bench.throttle import Throttle, copy_stream


def test_copy_is_paced_at_the_rate() -> None:
    data = b"x" * 1_000_000
    out = io.BytesIO()
    start = time.monotonic()
    copied = copy_stream(io.BytesIO(data), out, Throttle(5_000_000))
    elapsed = time.monotonic() - start
    assert copied == len(data)
    assert out.getvalue() == data
    assert 0.15 <= elapsed < 1.0  # 1 MB at 5 MB/s: 0.2 s (the first chunk is not delayed)


def test_unlimited_does_not_sleep() -> None:
    start = time.monotonic()
    copy_stream(io.BytesIO(b"y" * 5_000_000), io.BytesIO(), Throttle(None))
    assert time.monotonic() - start < 0.5


def test_limit_stops_early() -> None:
    out = io.BytesIO()
    assert copy_stream(io.BytesIO(b"abcdef"), out, Throttle(None), limit=4) == 4
    assert out.getvalue() == b"abcd"


def test_concurrent_transfers_share_the_link() -> None:
    throttle = Throttle(4_000_000)

    def transfer() -> None:
        copy_stream(io.BytesIO(b"z" * 400_000), io.BytesIO(), throttle)

    threads = [threading.Thread(target=transfer) for _ in range(2)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 800 KB in total at 4 MB/s: ~0.2 s, not the 0.1 s each would take alone
    assert time.monotonic() - start >= 0.17
