"""A loopback caching proxy in front of a package index, counting and throttling what it serves.

``GET /simple/<name>/`` fetches the upstream project page (PEP 691 JSON) and rewrites every file
URL under the upstream files host to ``<proxy>/files/...``; ``GET /files/<path>`` serves the file
from the proxy's disk cache, fetching it from upstream once. Upstream bytes are cached on disk so
repeated runs don't hammer the index, but every byte served to a client goes through the
throttle and is counted as an index byte, as if it came from the real index.

``local``: a directory of wheels the index does not have (uvci itself, built from this tree):
a project with a wheel there gets a page listing those wheels (``/local/<file>``), served,
throttled and counted like any other file, so ``uvx --from uvci==X`` in a job pays for uvci.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.throttle import Throttle, copy_stream

PYPI_SIMPLE = "https://pypi.org/simple"
PYPI_FILES = "https://files.pythonhosted.org"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Upstream:
    """Where the proxy fetches from: the simple index and the host serving its files."""

    simple: str = PYPI_SIMPLE
    files: str = PYPI_FILES


class Counter:
    """Bytes and requests served, safe to update from handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.bytes = 0
        self.requests = 0

    def add(self, nbytes: int) -> None:
        with self._lock:
            self.bytes += nbytes

    def request(self) -> None:
        with self._lock:
            self.requests += 1

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.bytes, self.requests


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # uv opens dozens of connections at once (UV_CONCURRENT_DOWNLOADS, 50). With the default
    # listen backlog of 5 the kernel dropped some connection attempts, uv's 10 s connect timeout
    # fired, and a job took twice as long (seen on the slow profile, uv sync jobs only).
    request_queue_size = 256


class IndexProxy:
    """The proxy server; ``url`` is its base, ``simple_url`` what uv uses as its index."""

    def __init__(
        self, cache_dir: Path, throttle: Throttle, upstream: Upstream = Upstream(),
        local: Path | None = None,
    ) -> None:  # fmt: skip
        self.cache_dir = cache_dir
        self.local = local
        self.throttle = throttle
        self.upstream = upstream
        self.counter = Counter()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.simple_url = f"{self.url}/simple"

    def __enter__(self) -> IndexProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever(): only once started
            self._server.shutdown()
        self._server.server_close()

    def page(self, name: str) -> bytes:
        """The project page for ``name``, its file URLs pointing at this proxy."""
        local = self.local_page(name)
        if local is not None:
            return local
        upstream = f"{self.upstream.simple}/{name}/"
        path = self._cached(f"pages/{hashlib.sha256(upstream.encode()).hexdigest()}", upstream)
        body = path.read_bytes()
        return body.replace(self.upstream.files.encode() + b"/", f"{self.url}/files/".encode())

    def local_page(self, name: str) -> bytes | None:
        """A PEP 691 page for the wheels of ``name`` in ``local``; None when it has none."""
        if self.local is None:
            return None
        wanted = _normalize(name)
        wheels = sorted(
            w for w in self.local.glob("*.whl") if _normalize(w.name.split("-")[0]) == wanted
        )
        if not wheels:
            return None
        files = [
            {
                "filename": w.name,
                "url": f"{self.url}/local/{w.name}",
                "hashes": {"sha256": hashlib.sha256(w.read_bytes()).hexdigest()},
            }
            for w in wheels
        ]
        page = {"meta": {"api-version": "1.0"}, "name": wanted, "files": files}
        return json.dumps(page).encode()

    def file(self, rel: str) -> Path:
        """The cached upstream file at ``rel`` (relative to the files host)."""
        if ".." in rel.split("/"):
            raise FileNotFoundError(rel)
        return self._cached(f"files/{rel}", f"{self.upstream.files}/{rel}")

    def _cached(self, key: str, url: str) -> Path:
        target = self.cache_dir / key
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        request = urllib.request.Request(url, headers={"Accept": JSON_TYPE})
        with urllib.request.urlopen(request, timeout=120) as resp:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(resp, out)
        os.replace(tmp, target)
        return target


def _handler_for(proxy: IndexProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            self._head = head
            try:
                self._serve()
            except urllib.error.HTTPError as exc:
                self._empty(exc.code)
            except (FileNotFoundError, urllib.error.URLError):
                self._empty(404)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _serve(self) -> None:
            proxy.counter.request()
            path = self.path.split("?", 1)[0]
            if path.startswith("/simple/"):
                name = path[len("/simple/") :].strip("/")
                body = proxy.page(name)
                self._headers(200, len(body), JSON_TYPE)
                if not self._head:
                    proxy.throttle.consume(len(body))
                    proxy.counter.add(len(body))
                    self.wfile.write(body)
            elif path.startswith("/files/"):
                self._send_file(proxy.file(path[len("/files/") :]))
            elif path.startswith("/local/") and proxy.local is not None:
                name = path[len("/local/") :]
                if "/" in name or not (proxy.local / name).is_file():
                    raise FileNotFoundError(name)
                self._send_file(proxy.local / name)
            else:
                self._empty(404)

        def _send_file(self, path: Path) -> None:
            size = path.stat().st_size
            start, end = _byte_range(self.headers.get("Range"), size)
            code = 206 if end - start < size else 200
            extra = {"Content-Range": f"bytes {start}-{end - 1}/{size}"} if code == 206 else {}
            self._headers(code, end - start, "application/octet-stream", extra)
            if self._head:
                return
            with path.open("rb") as src:
                src.seek(start)
                copy_stream(src, self.wfile, proxy.throttle, end - start, proxy.counter.add)  # type: ignore[arg-type]

        def _headers(
            self, code: int, length: int, ctype: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(code)
            self.send_header("Accept-Ranges", "bytes")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _empty(self, code: int) -> None:
            self._headers(code, 0, "text/plain")

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The ``[start, end)`` a single-range ``Range`` header asks for; the whole file otherwise."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 0, size
    first, _, last = header[len("bytes=") :].partition("-")
    if not first:
        return max(0, size - int(last)), size
    end = min(size, int(last) + 1) if last else size
    return min(int(first), size), end
