"""PEP 503/691 simple-index pages for a directory of dists (stdlib only; used by pyindex.py)."""

from __future__ import annotations

import datetime as _dt
import email.parser
import hashlib
import html
import json
import re
import tarfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "text/html"
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True)
class DistFile:
    filename: str
    project: str
    sha256: str
    size: int
    upload_time: str
    requires_python: str | None
    metadata: bytes | None


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return normalize(stem.rsplit("-", 1)[0])


def read_core_metadata(path: Path) -> bytes | None:
    """METADATA of a wheel or PKG-INFO of an sdist (None when absent)."""
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as zf:
                name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                return zf.read(name)
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tf:
                for member in tf.getmembers():
                    if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        extracted = tf.extractfile(member)
                        return extracted.read() if extracted else None
    except (OSError, StopIteration, zipfile.BadZipFile, tarfile.TarError):
        return None
    return None


class DistCatalog:
    """Reads a directory of dists; caches per (name, size, mtime)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: dict[tuple[str, int, int], DistFile] = {}
        self._lock = threading.Lock()

    def files(self) -> list[DistFile]:
        out = []
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and path.name.endswith(DIST_SUFFIXES):
                out.append(self.describe(path))
        return out

    def describe(self, path: Path) -> DistFile:
        st = path.stat()
        key = (path.name, st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        metadata = read_core_metadata(path)
        requires_python = None
        if metadata is not None:
            parsed = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
            requires_python = parsed.get("Requires-Python")
        uploaded = _dt.datetime.fromtimestamp(st.st_mtime, tz=_dt.timezone.utc)
        dist = DistFile(
            filename=path.name,
            project=project_of(path.name),
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            size=st.st_size,
            upload_time=uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            requires_python=requires_python,
            metadata=metadata if path.name.endswith(".whl") else None,
        )
        with self._lock:
            self._cache[key] = dist
        return dist

    def projects(self) -> dict[str, list[DistFile]]:
        grouped: dict[str, list[DistFile]] = {}
        for dist in self.files():
            grouped.setdefault(dist.project, []).append(dist)
        return grouped


def _file_entry(dist: DistFile, base: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": dist.filename,
        "url": f"{base}/files/{dist.filename}",
        "hashes": {"sha256": dist.sha256},
        "requires-python": dist.requires_python,
        "size": dist.size,
        "upload-time": dist.upload_time,
        "yanked": False,
    }
    if dist.metadata is not None:
        entry["core-metadata"] = {"sha256": hashlib.sha256(dist.metadata).hexdigest()}
    return entry


def project_json(name: str, dists: list[DistFile], base: str) -> bytes:
    doc = {
        "meta": {"api-version": "1.1"},
        "name": name,
        "files": [_file_entry(d, base) for d in dists],
        "versions": sorted({_version_of(d.filename) for d in dists}),
    }
    return json.dumps(doc, indent=1).encode()


def _version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return filename.split("-")[1]
    return filename.removesuffix(".tar.gz").removesuffix(".zip").rsplit("-", 1)[1]


def project_html(name: str, dists: list[DistFile], base: str) -> bytes:
    rows = []
    for d in dists:
        attrs = (
            f' data-requires-python="{html.escape(d.requires_python)}"' if d.requires_python else ""
        )
        if d.metadata is not None:
            attrs += f' data-core-metadata="sha256={hashlib.sha256(d.metadata).hexdigest()}"'
        href = f"{base}/files/{d.filename}#sha256={d.sha256}"
        rows.append(f'<a href="{href}"{attrs}>{html.escape(d.filename)}</a><br/>')
    body = "\n".join(rows)
    return f"<!DOCTYPE html><html><body><h1>{name}</h1>\n{body}\n</body></html>\n".encode()


def index_json(names: list[str]) -> bytes:
    doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
    return json.dumps(doc).encode()


def index_html(names: list[str]) -> bytes:
    rows = "\n".join(f'<a href="/simple/{n}/">{n}</a><br/>' for n in names)
    return f"<!DOCTYPE html><html><body>\n{rows}\n</body></html>\n".encode()
