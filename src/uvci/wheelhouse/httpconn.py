"""Keep-alive HTTP(S) connections, one per thread and host, for direct (unproxied) downloads.

A new TLS connection per file costs a round trip or two; a wheelhouse of a hundred small wheels
pays it a hundred times. :class:`ConnectionPool` keeps each worker thread's connection to a host
open between files. It only serves URLs no proxy applies to (``getproxies``/``proxy_bypass``,
the same environment urllib reads) and answers 3xx with ``None`` so the caller falls back to
urllib, which handles proxies and redirects (dropping credentials across hosts).
"""

from __future__ import annotations

import http.client
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

Key = tuple[str, str, int | None]
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
REDIRECTS = (301, 302, 303, 307, 308)


def direct(url: str) -> bool:
    """True when no proxy from the environment applies to ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    proxies = urllib.request.getproxies()
    if parts.scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass(parts.hostname or ""))


class ConnectionPool:
    """Per-thread keep-alive connections; see the module docstring."""

    def __init__(
        self, contexts: Mapping[str, ssl.SSLContext], default: ssl.SSLContext, timeout: float
    ) -> None:
        self.contexts = contexts  # by host name (e.g. UV_INSECURE_HOST), else ``default``
        self.default = default
        self.timeout = timeout
        self._local = threading.local()

    def _connections(self) -> dict[Key, http.client.HTTPConnection]:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        found: dict[Key, http.client.HTTPConnection] = self._local.connections
        return found

    def _connect(self, key: Key) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            context = self.contexts.get(host, self.default)
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def discard(self, url: str) -> None:
        """Close this thread's connection for ``url`` (after an error mid-response)."""
        connection = self._connections().pop(_key(url), None)
        if connection is not None:
            connection.close()

    def get(self, url: str, headers: Mapping[str, str]) -> http.client.HTTPResponse | None:
        """GET ``url``; the response (status < 300), ``None`` for a redirect, HTTPError else."""
        key = _key(url)
        connections = self._connections()
        reused = key in connections
        connection = connections.setdefault(key, self._connect(key))
        try:
            response = _send(connection, url, headers)
        except STALE:
            if not reused:
                raise
            connection.close()  # the server closed the idle connection: one fresh attempt
            response = _send(connection, url, headers)
        if response.status in REDIRECTS:
            response.read()
            return None
        if response.status >= 300:
            response.read()  # drained: the connection stays usable
            status, reason, message = response.status, response.reason, response.headers
            raise urllib.error.HTTPError(url, status, reason, message, None)
        return response


def _key(url: str) -> Key:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _send(
    connection: http.client.HTTPConnection, url: str, headers: Mapping[str, str]
) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target or "/", headers=dict(headers))
        return connection.getresponse()
    except BaseException:
        connection.close()
        raise
