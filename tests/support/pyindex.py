"""A loopback PEP 503/691 simple index over a directory of dists, with request counting and faults.

In-process::

    with LoopbackIndex(dists_dir) as index:
        run_uv(["lock", "--default-index", index.url])
        index.file_requests()          # {"gamma-1.0-py3-none-any.whl": 1, ...}

Standalone (stdlib only; also runs as a plain script; ``index_process.IndexProcess`` wraps it)::

    python -m tests.support.pyindex DIR [--port P] [--log requests.jsonl] [--bandwidth BPS]

prints ``URL http://127.0.0.1:P/simple`` and appends one JSON line per request to the log.

Routes: ``/simple/`` (project list), ``/simple/<name>/`` (JSON when the Accept header asks for
``application/vnd.pypi.simple.v1+json``, else HTML), ``/files/<filename>`` (the bytes) and
``/files/<filename>.metadata`` (PEP 658 core metadata of wheels, so ``uv lock`` reads metadata
without downloading wheels). The directory is listed on every request: files added later are served.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

if not __package__:  # run as a plain script: make `tests.support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.index_requests import Faults, Request, corrupted
from tests.support.simple_api import (
    HTML_TYPE,
    JSON_TYPE,
    DistCatalog,
    index_html,
    index_json,
    normalize,
    project_html,
    project_json,
)

__all__ = ["JSON_TYPE", "LoopbackIndex", "Request", "corrupted"]


class _Server(ThreadingHTTPServer):
    """A client that hangs up (a test's fault, a timed-out download) is not the server's error:
    no traceback on stderr, where it would land in whichever test is capturing then."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackIndex:
    """Threaded HTTP index on 127.0.0.1 serving ``directory``; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        bandwidth: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.catalog = DistCatalog(Path(directory))
        self.bandwidth = bandwidth  # bytes per second for /files/ bodies, None = unlimited
        self.log_path = log_path
        self._requests: list[Request] = []
        self._seq = 0
        self._lock = threading.Lock()
        self._faults = Faults()
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The simple index URL (for ``--default-index`` / ``[[tool.uv.index]] url``)."""
        return f"{self.base}/simple"

    def start(self) -> LoopbackIndex:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LoopbackIndex:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- counting ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def file_requests(self) -> Counter[str]:
        """GET requests for dist files (``/files/<name>``, not ``.metadata``), by file name."""
        return Counter(r.filename for r in self.requests if r.method == "GET" and r.filename)

    def bytes_sent(self) -> int:
        return sum(r.bytes_sent for r in self.requests)

    def reset(self) -> None:
        """Forget the recorded requests (faults stay; see ``clear_faults``)."""
        with self._lock:
            self._requests.clear()

    def record(self, request: Request) -> Request:
        """Log ``request`` (called before its body is sent, so a client never sees a reply
        before it is counted); returns it with its ``seq``."""
        with self._lock:
            self._seq += 1
            request = replace(request, seq=self._seq)
            self._requests.append(request)
            self._log(request)
        return request

    def amend(self, request: Request, bytes_sent: int) -> None:
        """Correct a request whose body was cut short (client aborted)."""
        fixed = replace(request, bytes_sent=bytes_sent, aborted=True)
        with self._lock:
            self._requests = [fixed if r.seq == request.seq else r for r in self._requests]
            self._log(fixed)

    def _log(self, request: Request) -> None:
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(request)) + "\n")

    # -- faults ------------------------------------------------------------------------------
    def fail(self, filename: str, status: int = 500, times: int | None = 1) -> None:
        """Answer the next ``times`` GETs of ``/files/<filename>`` with ``status`` (None: all)."""
        with self._lock:
            self._faults.fail[filename] = (status, times)

    def corrupt(self, filename: str, times: int | None = None) -> None:
        """Serve ``filename`` with a byte flipped (same size, bad sha256); None: until cleared."""
        with self._lock:
            self._faults.corrupt[filename] = (True, times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = Faults()

    def take_fault(self, filename: str) -> tuple[int | None, bool]:
        with self._lock:
            return self._faults.take_fail(filename), self._faults.take_corrupt(filename)


def _handler_for(index: LoopbackIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = index

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: LoopbackIndex
    protocol_version = "HTTP/1.1"
    server_version = "uvci-loopback-index/1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        status, ctype, body = self._route(path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        size = len(body) if send_body else 0
        agent = self.headers.get("User-Agent", "")
        request = self.owner.record(Request(self.command, path, status, size, time.time(), agent))
        if send_body:
            sent = self._send_body(body, throttle=path.startswith("/files/"))
            if sent < size:
                self.owner.amend(request, sent)

    def _route(self, path: str) -> tuple[int, str, bytes]:
        catalog = self.owner.catalog
        wants_json = JSON_TYPE in self.headers.get("Accept", "")
        if path in ("/simple", "/simple/"):
            names = sorted(catalog.projects())
            if wants_json:
                return 200, JSON_TYPE, index_json(names)
            return 200, HTML_TYPE, index_html(names)
        if path.startswith("/simple/"):
            name = normalize(path[len("/simple/") :].strip("/"))
            dists = catalog.projects().get(name)
            if not dists:
                return 404, "text/plain", b"not found\n"
            if wants_json:
                return 200, JSON_TYPE, project_json(name, dists, self.owner.base)
            return 200, HTML_TYPE, project_html(name, dists, self.owner.base)
        if path.startswith("/files/"):
            return self._file(unquote(path[len("/files/") :]))
        return 404, "text/plain", b"not found\n"

    def _file(self, filename: str) -> tuple[int, str, bytes]:
        metadata = filename.endswith(".metadata")
        real = filename.removesuffix(".metadata") if metadata else filename
        target = self.owner.catalog.directory / real
        if "/" in real or not target.is_file():
            return 404, "text/plain", b"not found\n"
        if metadata:
            meta = self.owner.catalog.describe(target).metadata
            return (200, "text/plain", meta) if meta else (404, "text/plain", b"no metadata\n")
        fail_status, corrupt = (
            self.owner.take_fault(real) if self.command == "GET" else (None, False)
        )
        if fail_status is not None:
            return fail_status, "text/plain", f"injected failure {fail_status}\n".encode()
        data = target.read_bytes()
        return 200, "application/octet-stream", corrupted(data) if corrupt else data

    def _send_body(self, body: bytes, throttle: bool) -> int:
        bandwidth = self.owner.bandwidth if throttle else None
        try:
            if not bandwidth:
                self.wfile.write(body)
                return len(body)
            return _throttled_write(self.wfile, body, bandwidth)
        except (BrokenPipeError, ConnectionResetError):
            return 0


def _throttled_write(out: io.BufferedIOBase, body: bytes, bandwidth: int) -> int:
    chunk = max(1024, bandwidth // 20)
    sent = 0
    try:
        for start in range(0, len(body), chunk):
            piece = body[start : start + chunk]
            time.sleep(len(piece) / bandwidth)  # before writing: the body takes >= len/bandwidth
            out.write(piece)
            out.flush()
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve DIR as a loopback PEP 503/691 index.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--log", type=Path, help="append one JSON line per request here")
    parser.add_argument("--bandwidth", type=int, help="bytes per second for file downloads")
    args = parser.parse_args(argv)
    index = LoopbackIndex(args.directory, args.port, args.bandwidth, args.log)
    print(f"URL {index.url}", flush=True)
    try:
        index._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        index._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
