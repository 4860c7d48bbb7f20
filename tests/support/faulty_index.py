"""A LoopbackIndex with the faults of hostile or broken servers: redirects, trickling bodies.

``FaultyIndex(directory)`` is a :class:`~tests.support.pyindex.LoopbackIndex` (same files,
same log) that also:

- ``redirect(filename, location, status=302)``: answers ``GET /files/<filename>`` with a
  redirect to ``location`` (a path on this index or any URL; ``/files/<filename>`` itself makes
  a redirect loop); ``/moved/<filename>`` serves the file too (a same-host target);
- ``trickle(filename, interval)``: sends that file's body one byte every ``interval`` seconds
  (with a correct ``Content-Length``: only an overall deadline ends it);
- records the ``Authorization`` header of every request in ``authorizations`` as
  ``(path, header or "")``.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.support.pyindex import LoopbackIndex, _Handler


class FaultyIndex(LoopbackIndex):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.redirects: dict[str, tuple[str, int]] = {}
        self.trickles: dict[str, float] = {}
        self.authorizations: list[tuple[str, str]] = []

        class Handler(_FaultyHandler):
            owner = self

        self._server.RequestHandlerClass = Handler

    def redirect(self, filename: str, location: str, status: int = 302) -> None:
        self.redirects[filename] = (location, status)

    def trickle(self, filename: str, interval: float) -> None:
        self.trickles[filename] = interval


class _FaultyHandler(_Handler):
    owner: FaultyIndex

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a deadline, a loop)
            return

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.owner.authorizations.append((path, self.headers.get("Authorization", "")))
        if path.startswith("/moved/"):
            self.path = path.replace("/moved/", "/files/", 1)
            super().do_GET()
            return
        name = unquote(path.removeprefix("/files/")) if path.startswith("/files/") else ""
        if name in self.owner.redirects:
            self._redirect(*self.owner.redirects[name])
        elif name in self.owner.trickles:
            self._trickle(self.owner.catalog.directory / name, self.owner.trickles[name])
        else:
            super().do_GET()

    def _redirect(self, location: str, status: int) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _trickle(self, target: Path, interval: float) -> None:
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError):
            return
