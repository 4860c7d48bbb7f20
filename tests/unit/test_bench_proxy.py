"""bench/proxy.py: the counting, throttling, caching proxy, in front of the loopback index."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.proxy import JSON_TYPE, IndexProxy, Upstream
from bench.throttle import Throttle
from tests.support.pyindex import LoopbackIndex


@pytest.fixture
def proxy(index: LoopbackIndex, tmp_path: Path) -> Iterator[IndexProxy]:
    upstream = Upstream(simple=f"{index.base}/simple", files=index.base)
    with IndexProxy(tmp_path / "proxy-cache", Throttle(None), upstream) as started:
        yield started


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return resp.status, resp.read()


def first_file(proxy: IndexProxy, name: str) -> str:
    _, body = get(f"{proxy.simple_url}/{name}/", {"Accept": JSON_TYPE})
    urls = [f["url"] for f in json.loads(body)["files"]]
    assert urls and all(u.startswith(f"{proxy.url}/files/") for u in urls)
    return str(urls[0])


def test_page_urls_point_at_the_proxy_and_bytes_are_counted(proxy: IndexProxy) -> None:
    url = first_file(proxy, "alpha")
    page_bytes, _ = proxy.counter.snapshot()
    status, body = get(url)
    assert status == 200 and len(body) > 0
    total, requests = proxy.counter.snapshot()
    assert total == page_bytes + len(body)
    assert requests == 2


def test_upstream_is_fetched_once_but_every_download_counts(
    proxy: IndexProxy, index: LoopbackIndex
) -> None:
    url = first_file(proxy, "alpha")
    _, once = get(url)
    before, _ = proxy.counter.snapshot()
    _, twice = get(url)
    after, _ = proxy.counter.snapshot()
    assert once == twice
    assert after - before == len(once)
    filename = url.rsplit("/", 1)[1]
    assert index.file_requests()[filename] == 1


def test_range_requests_are_partial(proxy: IndexProxy) -> None:
    url = first_file(proxy, "alpha")
    _, whole = get(url)
    status, part = get(url, {"Range": "bytes=2-9"})
    assert status == 206 and part == whole[2:10]
    _, tail = get(url, {"Range": "bytes=-4"})
    assert tail == whole[-4:]


def test_missing_project_is_404(proxy: IndexProxy) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        get(f"{proxy.simple_url}/no-such-project/")
    assert err.value.code == 404


def test_throttled_downloads_take_their_time(proxy: IndexProxy) -> None:
    url = first_file(proxy, "alpha")
    _, body = get(url)  # warm the proxy's disk cache
    proxy.throttle.rate = len(body) / 0.3  # this file in 0.3 s
    start = time.monotonic()
    get(url)
    assert time.monotonic() - start >= 0.2


def test_a_burst_of_connections_is_queued_not_dropped(tmp_path: Path) -> None:
    """uv opens dozens of connections at once: before the server accepts any of them, all must
    complete their handshake (a short listen backlog made the kernel drop some, and uv waited
    for its connect timeout)."""
    proxy = IndexProxy(tmp_path / "proxy-cache", Throttle(None))  # listening, not accepting
    host, port = proxy.url.removeprefix("http://").split(":")
    sockets = []
    try:
        for _ in range(64):
            sockets.append(socket.create_connection((host, int(port)), timeout=1.0))
    finally:
        for sock in sockets:
            sock.close()
        proxy.__exit__(None, None, None)
    assert len(sockets) == 64


def test_local_wheels_get_a_page_and_are_counted(index: LoopbackIndex, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    wheel = local / "uvci-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a zip")
    upstream = Upstream(simple=f"{index.base}/simple", files=index.base)
    with IndexProxy(tmp_path / "cache", Throttle(None), upstream, local) as proxy:
        _, body = get(f"{proxy.simple_url}/UVCI/", {"Accept": JSON_TYPE})
        (entry,) = json.loads(body)["files"]
        assert entry["url"] == f"{proxy.url}/local/{wheel.name}"
        before, _ = proxy.counter.snapshot()
        assert get(entry["url"])[1] == wheel.read_bytes()
        assert proxy.counter.snapshot()[0] - before == wheel.stat().st_size
        assert first_file(proxy, "alpha")  # anything else still comes from upstream
