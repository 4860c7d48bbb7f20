"""The bounds of one download: its timeout, its overall deadline, and how it follows redirects.

- ``UV_HTTP_TIMEOUT`` (uv's, seconds; ``UV_REQUEST_TIMEOUT`` the older name; default 30) must
  be more than 0: it bounds each connect and each wait for the next bytes;
- a body that trickles would never hit that timeout, so each file also has an overall deadline:
  ``UV_HTTP_TIMEOUT + size / UVCI_HTTP_MIN_RATE`` seconds (``UVCI_HTTP_MIN_RATE``: bytes per
  second, default 10000; 0 turns the deadline off). ``size`` is the file's ``Content-Length``,
  else what has arrived so far (so the average rate must stay above the minimum);
- redirects are followed as uv follows them (``uv-client``'s redirect handling): at most 10,
  and the ``Authorization`` header is kept when the new location is on the same host and port,
  dropped when it is not. A redirect loop is one error naming the URL.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import urlsplit

from uvci.errors import FatalError

DEFAULT_TIMEOUT = 30.0
DEFAULT_MIN_RATE = 10_000.0
MAX_REDIRECTS = 10


class TooSlow(Exception):
    """The body arrived slower than the minimum rate allows (worth a retry)."""


def env_number(env: Mapping[str, str], key: str, default: float, *, whole: bool = False) -> float:
    """A number of at least 0 from ``env`` (``whole``: a whole number, as uv reads a count)."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    kind = "a whole number" if whole else "a number"
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise FatalError(f"{key}={raw!r}: not {kind}; fix or unset it") from None
    if not value >= 0:  # also catches nan
        raise FatalError(f"{key}={raw!r}: must be {kind} of at least 0; fix or unset it")
    return value


def http_timeout(env: Mapping[str, str]) -> float:
    """``UV_HTTP_TIMEOUT`` (else ``UV_REQUEST_TIMEOUT``) in seconds: more than 0."""
    key = "UV_HTTP_TIMEOUT" if env.get("UV_HTTP_TIMEOUT", "").strip() else "UV_REQUEST_TIMEOUT"
    value = env_number(env, key, DEFAULT_TIMEOUT)
    if value == 0 or value == float("inf"):
        raise FatalError(
            f"{key}={env[key].strip()!r}: must be a number of seconds more than 0 and finite "
            f"(default {DEFAULT_TIMEOUT:g}); fix or unset it"
        )
    return value


def within_deadline(
    chunks: Iterator[bytes], size: int | None, timeout: float, min_rate: float
) -> Iterator[bytes]:
    """``chunks`` until the file's deadline passes (see the module docstring); then TooSlow."""
    start, received = time.monotonic(), 0
    for chunk in chunks:
        received += len(chunk)
        elapsed = time.monotonic() - start
        limit = timeout + (size or received) / min_rate if min_rate else None
        if limit is not None and elapsed > limit:
            total = f" of {size}" if size else ""
            raise TooSlow(
                f"{received}{total} bytes in {elapsed:.1f} s, below UVCI_HTTP_MIN_RATE="
                f"{min_rate:g} bytes/s (deadline {limit:.1f} s = UV_HTTP_TIMEOUT + size / "
                "UVCI_HTTP_MIN_RATE); lower UVCI_HTTP_MIN_RATE (0: no deadline) for a slow index"
            )
        yield chunk


def same_host(url: str, other: str) -> bool:
    """Same host and port (default ports filled in): where uv keeps credentials on a redirect."""
    defaults = {"http": 80, "https": 443}

    def origin(value: str) -> tuple[str, int | None]:
        parts = urlsplit(value)
        return (parts.hostname or "").lower(), parts.port or defaults.get(parts.scheme.lower())

    return origin(url) == origin(other)


class Redirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling with uv's credential rule (see the module docstring)."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth and same_host(req.full_url, new.full_url):
            new.add_unredirected_header("Authorization", auth)
        return new


def opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    build: Callable[..., urllib.request.OpenerDirector] = urllib.request.build_opener
    return build(*handlers, Redirects())
