"""Index credentials the way a uv user already configured them, and masking for every message.

:func:`load_auth` collects, for a project, what uv would send to an index:

1. ``UV_INDEX_<NAME>_USERNAME`` / ``UV_INDEX_<NAME>_PASSWORD`` for every ``[[tool.uv.index]]``
   in ``pyproject.toml`` (and ``[[index]]`` in the project's ``uv.toml``); ``<NAME>`` is the
   index name upper-cased with every non-alphanumeric character replaced by ``_``;
2. credentials embedded in an index URL (``https://user:token@host/simple``) in those tables or
   in ``UV_INDEX``, ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL``, ``UV_EXTRA_INDEX_URL``;
3. ``~/.netrc`` (or the file ``NETRC`` names), by host.

Indexes are read from ``[[tool.uv.index]]`` in pyproject.toml and ``[[index]]`` in uv.toml (the
project's and the user's, or ``UV_CONFIG_FILE``). Keyring providers are not supported.

uv.lock stores index URLs without credentials; a file URL gets an index's credentials when the
index is the package's registry or shares the file's realm (scheme, host, port), as in uv.
Passwords never reach a message: :meth:`Auth.mask` hides URL user-info and every known secret
(index, netrc and proxy passwords).
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from uvci.errors import FatalError
from uvci.util.redact import redact
from uvci.util.tomlio import load_toml

_URL_ENV = ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL")
_PROXY_ENV = tuple(
    k for p in ("http", "https", "all") for k in (f"{p}_proxy", f"{p.upper()}_PROXY")
)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass(frozen=True)
class Index:
    name: str | None
    url: str  # normalized, without credentials
    credentials: Credentials | None


def env_name(index_name: str) -> str:
    """``UV_INDEX_<NAME>`` prefix for an index name, as uv spells it."""
    return "UV_INDEX_" + re.sub(r"[^A-Za-z0-9]", "_", index_name).upper()


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no user-info, no trailing slash: for comparing index URLs."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def realm(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _embedded(url: str) -> Credentials | None:
    parts = urlsplit(url.strip())
    if parts.username is None:
        return None
    return Credentials(unquote(parts.username), unquote(parts.password or ""))


@dataclass(frozen=True)
class Auth:
    """Credentials by index, plus netrc; see the module docstring."""

    indexes: tuple[Index, ...] = ()
    netrc_hosts: Mapping[str, Credentials] = field(default_factory=dict)
    other_secrets: tuple[str, ...] = ()  # proxy passwords: masked, never sent by us

    def for_url(self, url: str, registry: str | None = None) -> Credentials | None:
        """What to send with a request for ``url`` (a file of the package from ``registry``)."""
        target = realm(url)
        if registry is not None:
            wanted = normalize_url(registry)
            for index in self.indexes:
                if index.url == wanted and index.credentials and realm(index.url) == target:
                    return index.credentials
        for index in self.indexes:
            if index.credentials and realm(index.url) == target:
                return index.credentials
        return _embedded(url) or self.netrc_hosts.get(target[1])

    def hint(self, registry: str | None) -> str:
        """How to give credentials for ``registry``, naming its uv variables when it has a name."""
        wanted = normalize_url(registry) if registry else None
        for index in self.indexes:
            if index.name and index.url == wanted:
                prefix = env_name(index.name)
                return f"set {prefix}_USERNAME and {prefix}_PASSWORD (or use ~/.netrc)"
        return "set UV_INDEX_<NAME>_USERNAME/_PASSWORD for its [[tool.uv.index]] (or ~/.netrc)"

    def secrets(self) -> tuple[str, ...]:
        found = [i.credentials.password for i in self.indexes if i.credentials]
        found += [c.password for c in self.netrc_hosts.values()]
        found += self.other_secrets
        return tuple(sorted({s for s in found if len(s) >= 3}, key=len, reverse=True))

    def mask(self, text: str) -> str:
        """``text`` redacted (:func:`uvci.util.redact.redact`) and every known password hidden."""
        text = redact(text)
        for secret in self.secrets():
            text = text.replace(secret, "****")
        return text


def _config_files(root: Path, env: Mapping[str, str]) -> list[Path]:
    """uv.toml files uv reads besides pyproject.toml: ``UV_CONFIG_FILE``, else the project's and
    the user's (``$XDG_CONFIG_HOME/uv/uv.toml``, default ``~/.config/uv/uv.toml``)."""
    if env.get("UV_CONFIG_FILE"):
        return [Path(env["UV_CONFIG_FILE"])]
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [p for p in (root / "uv.toml", config_home / "uv" / "uv.toml") if p.is_file()]


def _index_tables(root: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    data = load_toml(root / "pyproject.toml", missing_hint="run uvci in a uv project")
    tables = list(((data.get("tool") or {}).get("uv") or {}).get("index") or [])
    for path in _config_files(root, env):
        tables += list(load_toml(path, missing_hint="fix UV_CONFIG_FILE").get("index") or [])
    return [t for t in tables if isinstance(t, dict) and isinstance(t.get("url"), str)]


def _env_urls(env: Mapping[str, str]) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for key in _URL_ENV:
        for item in env.get(key, "").split():
            name, sep, url = item.partition("=")
            named = sep and "://" not in name
            found.append((name, url) if named else (None, item))
    return found


def _index(name: str | None, url: str, env: Mapping[str, str]) -> Index:
    try:
        urlsplit(url).port  # noqa: B018 (parsed for its check)
    except ValueError as exc:
        raise FatalError(
            f"index URL {redact(url)} ({name or 'from the environment'}): {exc}; fix it in "
            "pyproject.toml, uv.toml or UV_INDEX/UV_DEFAULT_INDEX"
        ) from None
    creds = _embedded(url)
    if name:
        prefix = env_name(name)
        user = env.get(f"{prefix}_USERNAME") or None  # empty is unset (uv then tries netrc)
        password = env.get(f"{prefix}_PASSWORD") or None
        if user is not None or password is not None:
            creds = Credentials(user or (creds.username if creds else ""), password or "")
    return Index(name, normalize_url(url), creds)


def _netrc(env: Mapping[str, str]) -> dict[str, Credentials]:
    path = Path(env["NETRC"]) if env.get("NETRC") else Path.home() / ".netrc"
    if not path.is_file():
        return {}
    try:
        parsed = netrc.netrc(str(path))
    except (netrc.NetrcParseError, OSError):
        return {}  # uv warns and goes on without it; so do we
    out: dict[str, Credentials] = {}
    for host, (login, _account, password) in parsed.hosts.items():
        out[host.lower()] = Credentials(login or "", password or "")
    return out


def load_auth(root: Path, env: Mapping[str, str] | None = None) -> Auth:
    """The credentials uv would use for the project at ``root`` (see the module docstring)."""
    env = os.environ if env is None else env
    pairs = [(t.get("name"), str(t["url"])) for t in _index_tables(root, env)] + _env_urls(env)
    indexes = tuple(_index(name, url, env) for name, url in pairs)
    proxies = (_embedded(env.get(key, "")) for key in _PROXY_ENV)
    return Auth(indexes, _netrc(env), tuple(c.password for c in proxies if c is not None))
