"""One SeaweedFS server at a time on this machine, for the tests that store caches in it.

Two ``weed server -s3`` processes started side by side (two pytest-xdist workers) left one
whose S3 API never answered; the tests do not need two at once, so each test module's server
holds a machine-wide file lock for its lifetime (another worker waits for it).
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.storage import SeaweedServer

LOCK = Path(tempfile.gettempdir()) / "uvci-tests-seaweed.lock"


@contextlib.contextmanager
def exclusive_seaweed(directory: Path) -> Iterator[SeaweedServer]:
    with open(LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with SeaweedServer(directory) as server:
                yield server
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
