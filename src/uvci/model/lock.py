"""A read-only model of ``uv.lock``: packages, their files, and their dependency edges."""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from uvci.errors import FatalError
from uvci.model.distname import check_dist_name
from uvci.util.redact import redact
from uvci.util.tomlio import load_toml

SUPPORTED_VERSIONS = (1,)
LOCAL_SOURCES = ("editable", "virtual", "directory", "path")
# A URL with a path and no query, fragment or whitespace: its path ends where the URL does.
_PLAIN_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]*/[^?#\s]*")
# What a value of the wrong shape raises while the tables are read (a hand-edited lock).
# RecursionError: a marker nested thousands of levels deep (packaging parses it recursively).
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, RecursionError)
# Letters and digits only: the digest is written into requirements files (no line break, no
# option can ride on it); a wrong length or a non-hex digit only never matches a file.
_SHA256 = re.compile(r"[0-9A-Za-z]{1,128}")
# A space, a control character, or one percent-encoded: no index URL holds one, and printed
# into a CI log a line break forges lines (log injection).
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f]|%(?:[01][0-9a-fA-F]|7[fF]|20)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]|%(?:[01][0-9a-fA-F]|7[fF])")  # a path may hold a space


SourceKind = Literal[
    "registry", "git", "url", "path", "directory", "editable", "virtual", "unknown"
]
SOURCE_KINDS: tuple[SourceKind, ...] = (
    "registry", "git", "url", "path", "directory", "editable", "virtual",
)  # fmt: skip


@dataclass(frozen=True)
class Dist:
    """One file of a package: a wheel or an sdist."""

    filename: str
    url: str | None
    path: str | None
    sha256: str | None
    size: int | None

    @functools.cached_property
    def wheel_tags(self) -> frozenset[Tag] | None:
        """The tags a wheel's filename declares (parsed once); None for an sdist or a bad name."""
        if not self.filename.endswith(".whl"):
            return None
        parts = self.filename[: -len(".whl")].split("-")
        if len(parts) not in (5, 6):
            return None
        return _parse_tag("-".join(parts[-3:]))


@functools.lru_cache(maxsize=4096)
def _parse_tag(tag: str) -> frozenset[Tag]:
    return frozenset(parse_tag(tag))


@dataclass(frozen=True)
class Dep:
    """An edge in the lock graph; ``version``/``source`` pick one of several same-named packages."""

    name: str
    version: str | None
    source: str | None
    marker: Marker | None
    extras: tuple[str, ...]


@dataclass(frozen=True)
class Package:
    name: str
    version: str | None
    source_kind: SourceKind
    source: str
    sdist: Dist | None
    wheels: tuple[Dist, ...]
    dependencies: tuple[Dep, ...]
    optional: Mapping[str, tuple[Dep, ...]]
    groups: Mapping[str, tuple[Dep, ...]]

    @property
    def is_local(self) -> bool:
        """Workspace members, editable and path sources: nothing to download."""
        if self.source_kind == "path":
            return not self.source.endswith((".whl", ".tar.gz", ".zip"))
        return self.source_kind in LOCAL_SOURCES


@dataclass(frozen=True)
class Lock:
    path: Path
    version: int
    requires_python: SpecifierSet
    packages: tuple[Package, ...]
    members: tuple[str, ...]
    manifest_groups: Mapping[str, tuple[Dep, ...]]

    def named(self, name: str) -> list[Package]:
        return list(self._by_name.get(name, ()))

    @functools.cached_property
    def _by_name(self) -> dict[str, list[Package]]:
        """The packages of each name, in lock order (built once; the walk looks up every edge)."""
        index: dict[str, list[Package]] = {}
        for package in self.packages:
            index.setdefault(package.name, []).append(package)
        return index


def load_lock(path: Path) -> Lock:
    """Parse ``uv.lock``; a missing, malformed or unknown-version lock is a clear error."""
    data = load_toml(path, missing_hint="create it with `uv lock`")
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise FatalError(
            f"{path}: lock version {version!r} is not supported (uvci reads version "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}); upgrade uvci, or re-lock with a "
            "matching uv"
        )
    reader = _Reader(path)
    try:
        return reader.lock(data, version)
    except _SHAPE_ERRORS as exc:
        raise reader.malformed("the lock", exc) from None


class _Reader:
    """Turns the TOML tables into the model, naming the package when something is off."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.markers: dict[str, Marker] = {}  # one Marker per distinct text (parsed once)

    def lock(self, data: dict[str, Any], version: int) -> Lock:
        manifest = data.get("manifest") or {}
        return Lock(
            path=self.path,
            version=version,
            requires_python=self._specifier(data.get("requires-python", "")),
            packages=tuple(
                self.numbered(n, raw) for n, raw in enumerate(data.get("package", []), 1)
            ),
            members=tuple(canonicalize_name(m) for m in manifest.get("members", [])),
            manifest_groups={
                name: tuple(self.dep(d) for d in deps if "name" in d)
                for name, deps in (manifest.get("dependency-groups") or {}).items()
            },
        )

    def malformed(self, what: str, exc: Exception, needle: str | None = None) -> FatalError:
        problem = printable(f"no {exc}" if isinstance(exc, KeyError) else str(exc))[:300]
        where = f"{self.path}:{self.line_of(needle)}" if needle else str(self.path)
        return FatalError(f"{where}: {what} is malformed ({problem}); re-create it with `uv lock`")

    def line_of(self, needle: str) -> int:
        """The first line of the lock that is ``needle`` (1 if none is)."""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for number, line in enumerate(self.path.read_text("utf-8").splitlines(), 1):
                if line.strip() == needle:
                    return number
        return 1

    def numbered(self, number: int, raw: Any) -> Package:
        """Package ``number`` (1-based); a malformed one is an error naming it."""
        try:
            return self.package(raw)
        except _SHAPE_ERRORS as exc:
            name = raw.get("name") if isinstance(raw, dict) else None
            what = f"package {name!r}" if isinstance(name, str) else f"package #{number}"
            raise self.malformed(what, exc, f"name = {json.dumps(name)}") from None

    def _specifier(self, raw: str) -> SpecifierSet:
        try:
            return SpecifierSet(raw)
        except (InvalidSpecifier, TypeError):
            raise FatalError(
                f"{self.path}: invalid requires-python {raw!r}; run `uv lock`"
            ) from None

    def package(self, raw: dict[str, Any]) -> Package:
        kind, source = _source(raw.get("source") or {})
        deps = {
            name: tuple(self.dep(d) for d in items)
            for name, items in (raw.get("optional-dependencies") or {}).items()
        }
        return Package(
            name=canonicalize_name(raw["name"]),
            version=raw.get("version"),
            source_kind=kind,
            source=source,
            sdist=_dist(raw["sdist"], source) if "sdist" in raw else None,
            wheels=tuple(_dist(w, source) for w in raw.get("wheels", [])),
            dependencies=tuple(self.dep(d) for d in raw.get("dependencies", [])),
            optional=deps,
            groups={
                name: tuple(self.dep(d) for d in items)
                for name, items in (raw.get("dev-dependencies") or {}).items()
            },
        )

    def dep(self, raw: dict[str, Any]) -> Dep:
        marker = raw.get("marker")
        try:
            parsed = self.marker(marker) if marker else None
        except (InvalidMarker, RecursionError):
            raise FatalError(
                f"{self.path}: marker {printable(repr(marker))[:100]} on a dependency on "
                f"{printable(str(raw.get('name')))[:100]} is not "
                "supported by uvci; please report it"
            ) from None
        source = raw.get("source")
        return Dep(
            name=canonicalize_name(raw["name"]),
            version=raw.get("version"),
            source=_source(source)[1] if source else None,
            marker=parsed,
            extras=tuple(raw.get("extra", ())),
        )

    def marker(self, text: str) -> Marker:
        if text not in self.markers:
            self.markers[text] = Marker(text)
        return self.markers[text]


def _source(raw: dict[str, Any]) -> tuple[SourceKind, str]:
    for kind in SOURCE_KINDS:
        if kind in raw:
            return kind, str(raw[kind])
    return "unknown", ""


def _dist(raw: dict[str, Any], source: str) -> Dist:
    url = raw.get("url")
    path = raw.get("path")
    for location in (url, path, source):
        if location is not None:
            _check_location(location)
    _check_url(url or source)
    location = url or path or source
    filename = check_dist_name(raw.get("filename") or _last_segment(location))
    return Dist(filename=filename, url=url, path=path, sha256=_sha256(raw), size=_size(raw))


def _sha256(raw: dict[str, Any]) -> str | None:
    """The file's sha256, None for another algorithm or none; a ``sha256:`` that is not
    letters and digits is malformed."""
    digest = raw.get("hash")
    if digest is None:
        return None
    if not isinstance(digest, str):
        raise ValueError(f"hash {digest!r} is not a string")
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256":
        return None
    if not _SHA256.fullmatch(value):
        raise ValueError(f"hash {printable(digest[:80])!r} is not a sha256 (hex digits)")
    return value


def _size(raw: dict[str, Any]) -> int | None:
    size = raw.get("size")
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size {str(size)[:40]!r} is not a number of bytes")
    return size


def _check_location(location: object) -> None:
    """A URL or path of a file: a string with no space or control character, even encoded."""
    if not isinstance(location, str):
        raise TypeError(f"URL or path {location!r} is not a string")
    url = "://" in location
    if (_UNPRINTABLE if url else _CONTROL).search(location):
        what = "URL" if url else "path"
        raise ValueError(
            f"{what} {printable(redact(location))[:200]} holds a "
            f"{'space or ' if url else ''}control character (or one percent-encoded); "
            f"fix the {'index URL' if url else 'path'}"
        )


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x00``): safe in a log."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _last_segment(location: str) -> str:
    """The file name a URL or path ends with (a plain URL is not split: thousands per lock)."""
    path = location if _PLAIN_URL.fullmatch(location) else urlsplit(location).path
    return unquote(path.rsplit("/", 1)[-1])


def _check_url(url: str) -> None:
    """A URL whose port is out of range fails here, as one error naming its package."""
    if "://" not in url or _port_ok(_origin(url)):
        return
    try:
        urlsplit(url).port  # noqa: B018 (parsed for its check)
    except ValueError as exc:
        raise ValueError(f"URL {redact(url)}: {exc}; fix the index URL") from None


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: all that its port check reads."""
    start = url.index("://") + 3
    ends = [i for i in (url.find(c, start) for c in "/?#") if i >= 0]
    return url[: min(ends, default=len(url))]


@functools.lru_cache(maxsize=256)
def _port_ok(origin: str) -> bool:
    """Whether ``origin``'s port parses; a lock's thousands of URLs share a few origins."""
    try:
        urlsplit(origin).port  # noqa: B018 (parsed for its check)
    except ValueError:
        return False
    return True
