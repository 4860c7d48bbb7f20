"""Fetch one locked file into a directory: verified, atomic, retried, credentials masked.

:class:`Fetcher` is safe to share between threads. A file is streamed into a temp file in the
destination directory (``.<name>.<random>.part``, a name no installer takes for a dist), its
sha256 checked against the lock, and only then renamed into place with ``os.replace``; any
failure or interruption removes the temp file. Settings a uv user already has apply:
``UV_HTTP_RETRIES`` (default 3), ``UV_HTTP_TIMEOUT`` (seconds, default 30; with
``UVCI_HTTP_MIN_RATE`` it bounds each file, :mod:`uvci.wheelhouse.httplimits`), ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``, ``UV_INSECURE_HOST`` and the ``HTTP(S)_PROXY`` / ``NO_PROXY`` variables
(through urllib). ``UVCI_HTTP_BACKOFF`` sets the first retry delay (default 0.5 s, doubling).
Connection errors, 5xx, 429 and a hash mismatch are retried; 404 and other 4xx fail at once.
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from uvci import __version__
from uvci.errors import FatalError
from uvci.util.atomicfile import Progress, VerifyError, write_verified
from uvci.util.saferead import UnsafeFile, open_regular
from uvci.wheelhouse.credentials import Auth
from uvci.wheelhouse.httpconn import REDIRECTS, ConnectionPool, direct
from uvci.wheelhouse.httplimits import (
    DEFAULT_MIN_RATE,
    MAX_REDIRECTS,
    TooSlow,
    env_number,
    http_timeout,
    opener,
    within_deadline,
)

CHUNK = 256 * 1024
MAX_UNSIZED = 8 * 1024**3  # a file uv.lock gives no size: the largest wheels are ~4 GB


class Cancelled(Exception):
    """Another download failed or the user interrupted: stop streaming."""


class _Retry(Exception):
    """A transient failure worth another attempt (after ``delay`` seconds if the server said)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (numbers only), capped at a minute."""
    return min(float(value), 60.0) if value and value.strip().isdigit() else None


def _ssl_context(env: Mapping[str, str]) -> ssl.SSLContext:
    cafile, capath = env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR")
    try:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    except (OSError, ssl.SSLError) as exc:
        raise FatalError(
            f"{cafile or capath}: cannot load CA certificates ({exc}); fix SSL_CERT_FILE/"
            "SSL_CERT_DIR"
        ) from None


def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class _Transport:
    """Openers (verifying, and lax for ``UV_INSECURE_HOST``) and keep-alive connections."""

    secure: urllib.request.OpenerDirector
    lax: urllib.request.OpenerDirector
    pool: ConnectionPool


class Fetcher:
    """Downloads files named in uv.lock; see the module docstring."""

    def __init__(
        self,
        auth: Auth,
        root: Path,
        env: Mapping[str, str] | None = None,
        notify: Callable[[str], None] = lambda message: None,
    ) -> None:
        env = os.environ if env is None else env
        self.auth = auth
        self.root = root  # relative paths in the lock (path registries) are from here
        self.notify = notify  # told about each retry
        self.retries = int(env_number(env, "UV_HTTP_RETRIES", 3, whole=True))
        self.timeout = http_timeout(env)
        self.min_rate = env_number(env, "UVCI_HTTP_MIN_RATE", DEFAULT_MIN_RATE)
        self.backoff = env_number(env, "UVCI_HTTP_BACKOFF", 0.5)
        self.insecure = set(env.get("UV_INSECURE_HOST", "").split())
        self.stop = threading.Event()
        self._ca = {k: env.get(k, "") for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        self._made: _Transport | None = None  # TLS contexts cost ~0.05 s: built on first need
        self._making = threading.Lock()

    def _transport(self) -> _Transport:
        with self._making:
            if self._made is None:
                secure, lax = _ssl_context(self._ca), _insecure_context()
                self._made = _Transport(
                    opener(urllib.request.HTTPSHandler(context=secure)),
                    opener(urllib.request.HTTPSHandler(context=lax)),
                    ConnectionPool(dict.fromkeys(self.insecure, lax), secure, self.timeout),
                )
            return self._made

    def fetch(
        self,
        url: str,
        dest: Path,
        sha256: str | None,
        registry: str | None,
        progress: Progress,
        size: int | None = None,
    ) -> int:
        """Put the file at ``url`` at ``dest`` (verified); returns its size in bytes. No more
        than ``size`` bytes (uv.lock's) are read, else :data:`MAX_UNSIZED`."""
        limit = MAX_UNSIZED if size is None else size
        if "://" not in url or url.startswith("file://"):
            return self._copy_local(url, dest, sha256, registry, progress, limit)
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(url, dest, sha256, registry, progress, limit)
            except _Retry as exc:
                why = self.auth.mask(str(exc))
                if attempt == self.retries:
                    raise FatalError(
                        f"{dest.name}: download failed after {attempt + 1} attempts from "
                        f"{self.auth.mask(url)}: {why}; check the index is reachable (proxy, "
                        "VPN) and retry"
                    ) from None
                delay = max(self.backoff * 2**attempt, exc.delay or 0.0)
                self.notify(f"{dest.name}: {why}; retrying in {delay:.1f} s")
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Cancelled

    def _request(self, url: str, registry: str | None) -> urllib.request.Request:
        request = urllib.request.Request(url, headers={"User-Agent": f"uvci/{__version__}"})
        creds = self.auth.for_url(url, registry)
        if creds is not None:
            request.add_unredirected_header("Authorization", creds.header())
        return request

    def _open(self, url: str, registry: str | None) -> http.client.HTTPResponse:
        """Keep-alive connection when no proxy applies and no redirect comes, else urllib."""
        request = self._request(url, registry)
        transport = self._transport()
        if direct(url):
            kept = transport.pool.get(url, dict(request.header_items()))
            if kept is not None:
                return kept
        host = (urlsplit(url).hostname or "").lower()
        opener = transport.lax if host in self.insecure else transport.secure
        response: http.client.HTTPResponse = opener.open(request, timeout=self.timeout)
        return response

    def _attempt(
        self,
        url: str,
        dest: Path,
        sha256: str | None,
        registry: str | None,
        progress: Progress,
        limit: int,
    ) -> int:
        try:
            return self._stream(url, dest, sha256, registry, progress, limit)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise self._http_error(exc, url, dest, registry) from None
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc, url, dest) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise self._untrusted(exc.reason, url, dest) from None
            raise _Retry(str(exc.reason)) from None
        except (http.client.HTTPException, OSError) as exc:  # reset, timeout, TLS cut short...
            raise _Retry(f"{type(exc).__name__}: {exc}") from None

    def _stream(
        self,
        url: str,
        dest: Path,
        sha256: str | None,
        registry: str | None,
        progress: Progress,
        limit: int,
    ) -> int:
        try:
            with self._open(url, registry) as response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                if expected is not None and expected > limit:
                    raise VerifyError(f"the server announces {expected} bytes, {_bound(limit)}")
                chunks = capped(_chunks(response, self.stop), limit)
                timed = within_deadline(chunks, expected, self.timeout, self.min_rate)
                return write_verified(timed, dest, sha256, progress, expected)
        except BaseException as exc:
            if self._made is not None:  # a connection left mid-response cannot be reused
                self._made.pool.discard(url)
            if isinstance(exc, (VerifyError, TooSlow)):
                raise _Retry(str(exc)) from None
            raise

    def _untrusted(self, exc: ssl.SSLCertVerificationError, url: str, dest: Path) -> FatalError:
        return FatalError(
            f"{dest.name}: TLS certificate of {self.auth.mask(url)} not trusted "
            f"({exc.verify_message}); point SSL_CERT_FILE at your CA bundle"
        )

    def _http_error(
        self, exc: urllib.error.HTTPError, url: str, dest: Path, registry: str | None
    ) -> Exception:
        masked = self.auth.mask(url)
        if exc.code in REDIRECTS:  # urllib gave up: a loop, or more than MAX_REDIRECTS
            return FatalError(
                f"{dest.name}: {masked} redirects in a loop (or more than {MAX_REDIRECTS} "
                "times); check the index URL in uv.lock and the index's redirects"
            )
        if exc.code == 429 or exc.code >= 500:
            return _Retry(
                f"HTTP {exc.code} {exc.reason}", _retry_after(exc.headers.get("Retry-After"))
            )
        if exc.code in (401, 403):
            return FatalError(
                f"{dest.name}: HTTP {exc.code} {exc.reason} from {masked}; the index wants "
                f"credentials: {self.auth.hint(registry)}"
            )
        hint = "the index no longer has this file: run `uv lock --upgrade` and commit uv.lock"
        if exc.code not in (404, 410):
            hint = "check the index URL in uv.lock"
        return FatalError(f"{dest.name}: HTTP {exc.code} {exc.reason} from {masked}; {hint}")

    def local_path(self, url: str, registry: str | None) -> Path | None:
        """The file a local URL or lock path names (None for http/https)."""
        if url.startswith("file://"):
            return Path(unquote(urlsplit(url).path))
        if "://" in url:
            return None
        base = registry if registry and "://" not in registry else "."
        return self.root / base / url

    def _copy_local(
        self,
        url: str,
        dest: Path,
        sha256: str | None,
        registry: str | None,
        progress: Progress,
        limit: int,
    ) -> int:
        """Copy a file of a path registry (``path`` in uv.lock is relative to the registry dir)
        or a ``file://`` URL, as uv reads them: a regular file (never a device or FIFO), no
        more than ``limit`` bytes of it."""
        source = self.local_path(url, registry)
        assert source is not None
        try:
            with open_regular(source) as f:
                return write_verified(capped(_chunks(f, self.stop), limit), dest, sha256, progress)
        except FileNotFoundError:
            raise FatalError(f"{source}: not found (named in uv.lock); run `uv lock`") from None
        except UnsafeFile as exc:
            raise FatalError(
                f"{source}: {exc.strerror} (named in uv.lock); point uv.lock at the file itself"
            ) from None
        except VerifyError as exc:
            raise FatalError(f"{source}: {exc}; run `uv lock` to record its new hash") from None


def _bound(limit: int) -> str:
    if limit == MAX_UNSIZED:
        return f"more than {MAX_UNSIZED} bytes (uv.lock gives no size: the most uvci reads)"
    return f"more than the {limit} bytes uv.lock records"


def capped(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """``chunks`` until more than ``limit`` bytes have come: then :class:`VerifyError`."""
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise VerifyError(f"{_bound(limit)} arrived; the file is not the one uv.lock names")
        yield chunk


def _chunks(stream: IO[bytes] | http.client.HTTPResponse, stop: threading.Event) -> Iterator[bytes]:
    """What has arrived, up to CHUNK at a time (``read1``: a slow link never blocks a stop)."""
    read = getattr(stream, "read1", stream.read)
    while True:
        if stop.is_set():
            raise Cancelled
        chunk = read(CHUNK)
        if not chunk:
            return
        yield chunk
