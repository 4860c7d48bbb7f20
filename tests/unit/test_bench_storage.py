"""bench/archive.py + bench/storage.py: runner-format archives through a real SeaweedFS."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import archive
from bench.storage import CacheStore, SeaweedServer, StorageError
from bench.throttle import Throttle
from tests.support.seaweed import exclusive_seaweed

OLD = time.time() - 3600


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with exclusive_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def make_tree(root: Path) -> None:
    (root / "cache" / "archive-v0" / "abc").mkdir(parents=True)
    (root / "cache" / "archive-v0" / "abc" / "mod.py").write_text("x = 1\n" * 1000)
    script = root / "cache" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (root / "cache" / "wheels").mkdir()
    (root / "cache" / "wheels" / "link").symlink_to("../archive-v0/abc")
    for path in [*root.rglob("*"), root / "cache"]:
        os.utime(path, (OLD, OLD), follow_symlinks=False)


@pytest.mark.parametrize("fmt", archive.FORMATS)
def test_round_trip_through_seaweedfs(
    fmt: archive.Format, tmp_path: Path, seaweed: SeaweedServer
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    make_tree(src)
    store = CacheStore(seaweed.endpoint, Throttle(None))
    archive.create(src, ("cache",), tmp_path / "a.archive", fmt)
    sent = store.put(f"test/{fmt}", tmp_path / "a.archive")
    assert sent == (tmp_path / "a.archive").stat().st_size
    assert store.get(f"test/{fmt}", tmp_path / "b.archive") == sent
    dst.mkdir()
    archive.extract(tmp_path / "b.archive", dst, fmt)
    restored = dst / "cache"
    assert (restored / "archive-v0" / "abc" / "mod.py").read_text() == "x = 1\n" * 1000
    assert (restored / "wheels" / "link").is_symlink()
    assert os.readlink(restored / "wheels" / "link") == "../archive-v0/abc"
    assert os.access(restored / "run.sh", os.X_OK)
    newest = archive.newest_mtime(dst, ("cache",))
    assert newest is not None and abs(newest - OLD) <= 2  # zip keeps 2-second DOS times


def test_missing_object_is_none(tmp_path: Path, seaweed: SeaweedServer) -> None:
    store = CacheStore(seaweed.endpoint, Throttle(None))
    assert store.get("no/such/key", tmp_path / "x") is None


def test_storage_throttle_paces_upload(tmp_path: Path, seaweed: SeaweedServer) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(os.urandom(1_000_000))
    store = CacheStore(seaweed.endpoint, Throttle(5_000_000))
    start = time.monotonic()
    store.put("test/blob", blob)
    assert time.monotonic() - start >= 0.15


def test_a_download_over_the_chunk_size_is_paced_by_the_parallel_rate(
    tmp_path: Path, seaweed: SeaweedServer
) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(os.urandom(1_000_000))
    store = CacheStore(seaweed.endpoint, Throttle(4_000_000))  # one stream: 0.25 s a MB
    store.put("test/parallel", blob)
    store.parallel = Throttle(100_000_000)
    store.parallel_over = 2_000_000  # larger than the blob: one stream
    start = time.monotonic()
    store.get("test/parallel", tmp_path / "one")
    one_stream = time.monotonic() - start
    store.parallel_over = 500_000  # smaller: the runner's ranged parallel download
    start = time.monotonic()
    store.get("test/parallel", tmp_path / "many")
    parallel = time.monotonic() - start
    assert one_stream >= 0.2 and parallel < one_stream / 2
    assert (tmp_path / "many").read_bytes() == blob.read_bytes()


def test_zstd_is_smaller_than_nothing_and_zip_is_a_zip(tmp_path: Path) -> None:
    make_tree(tmp_path)
    for fmt in archive.FORMATS:
        archive.create(tmp_path, ("cache",), tmp_path / f"out.{fmt}", fmt)
    assert (tmp_path / "out.zip").read_bytes()[:2] == b"PK"
    assert (tmp_path / "out.tarzstd").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd magic
    assert (tmp_path / "out.tarzstd").stat().st_size < 6000  # 6 KB of text compresses


def test_nothing_to_archive(tmp_path: Path) -> None:
    assert archive.newest_mtime(tmp_path, ("absent",)) is None


def test_a_server_not_ready_in_time_is_stopped_not_left_running(tmp_path: Path) -> None:
    server = SeaweedServer(tmp_path / "seaweed", ready_timeout=0)
    with pytest.raises(StorageError, match="not ready in time"), server:
        pass
    assert server._proc is not None and server._proc.poll() is not None


def test_a_server_not_ready_is_started_again_on_other_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port found free may be taken before weed binds it: the next attempt picks others."""
    endpoints = []

    def first_fails(self: SeaweedServer, deadline: float) -> None:
        endpoints.append(self.endpoint)
        if len(endpoints) == 1:
            raise StorageError("not ready in time")

    monkeypatch.setattr(SeaweedServer, "_wait_ready", first_fails)
    with SeaweedServer(tmp_path / "seaweed") as server:
        assert len(endpoints) == 2 and endpoints[0] != endpoints[1]
        assert server.endpoint == endpoints[1]
    assert server._proc is not None and server._proc.poll() is not None
