"""Build tiny but real wheels and sdists for the loopback index (stdlib only, deterministic).

Wheels carry a correct ``.dist-info`` (METADATA, WHEEL with one ``Tag:`` line per tag of the
file name, RECORD with sha256 hashes); their content is pure Python, so uv installs a platform
wheel on any interpreter whose tags match the file name. Sdists carry the in-tree backend
(``tests/support/backend.py``) so uv builds them with ``requires = []``: no index, no network.
Archives use fixed timestamps, so the same inputs give byte-identical files (stable hashes).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

BACKEND_SOURCE = (Path(__file__).parent / "backend.py").read_text(encoding="utf-8")
ZIP_STAMP = (2020, 1, 1, 0, 0, 0)
TAR_MTIME = 1577836800  # 2020-01-01T00:00:00Z

Extras = Mapping[str, Sequence[str]]


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_name(name: str) -> str:
    """The name as it appears in wheel and sdist file names (PEP 427/625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def module_name(name: str) -> str:
    return dist_name(name)


def compress_tags(tags: Sequence[str]) -> str:
    """``("cp311-cp311-a", "cp311-cp311-b")`` -> ``"cp311-cp311-a.b"`` (must be a product)."""
    parts: list[list[str]] = [[], [], []]
    for tag in tags:
        fields = tag.split("-")
        if len(fields) != 3:
            raise ValueError(f"not a python-abi-platform tag: {tag!r}")
        for i, field in enumerate(fields):
            if field not in parts[i]:
                parts[i].append(field)
    product = {f"{p}-{a}-{s}" for p in parts[0] for a in parts[1] for s in parts[2]}
    if product != set(tags) or len(tags) != len(product):
        raise ValueError(f"tags {tags!r} are not a compressible set (python x abi x platform)")
    return "-".join(".".join(p) for p in parts)


def wheel_filename(name: str, version: str, tags: Sequence[str] = ("py3-none-any",)) -> str:
    return f"{dist_name(name)}-{version}-{compress_tags(tags)}.whl"


def sdist_filename(name: str, version: str) -> str:
    return f"{dist_name(name)}-{version}.tar.gz"


def _requires_lines(requires_dist: Sequence[str], extras: Extras) -> list[str]:
    lines = [f"Requires-Dist: {req}" for req in requires_dist]
    for extra, reqs in extras.items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            spec, _, marker = req.partition(";")
            both = f"({marker.strip()}) and " if marker.strip() else ""
            lines.append(f'Requires-Dist: {spec.strip()}; {both}extra == "{extra}"')
    return lines


def metadata_text(
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras | None = None,
    metadata_version: str = "2.1",
) -> str:
    """Core metadata (METADATA / PKG-INFO) for a distribution."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += _requires_lines(requires_dist, extras or {})
    return "\n".join(lines) + "\n"


def default_module_source(name: str, version: str, tags: Sequence[str]) -> str:
    return (
        f'"""Test distribution {name}."""\n__version__ = "{version}"\nBUILT_FOR = {list(tags)!r}\n'
    )


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    tags: Sequence[str] = ("py3-none-any",),
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras | None = None,
    module_source: str | None = None,
) -> Path:
    """Write ``dest/<wheel filename>`` and return its path. The module is ``<name>/__init__.py``."""
    info = f"{dist_name(name)}-{version}.dist-info"
    wheel_meta = "Wheel-Version: 1.0\nGenerator: uvci-tests\nRoot-Is-Purelib: true\n"
    wheel_meta += "".join(f"Tag: {tag}\n" for tag in tags)
    entries = [
        (f"{module_name(name)}/__init__.py", _source(module_source, name, version, tags)),
        (f"{info}/METADATA", metadata_text(name, version, requires_dist, requires_python, extras)),
        (f"{info}/WHEEL", wheel_meta),
    ]
    return _write(
        dest / wheel_filename(name, version, tags), _zip_bytes(_with_record(info, entries))
    )


def _source(module_source: str | None, name: str, version: str, tags: Sequence[str]) -> str:
    if module_source is not None:
        return module_source
    return default_module_source(name, version, tags)


def _with_record(info: str, entries: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """The wheel's files, encoded, with the ``RECORD`` (hash and size of each) appended."""
    encoded = [(arc, text.encode()) for arc, text in entries]
    record = [f"{arc},sha256={_record_hash(data)},{len(data)}" for arc, data in encoded]
    record.append(f"{info}/RECORD,,")
    return [*encoded, (f"{info}/RECORD", ("\n".join(record) + "\n").encode())]


def _zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in entries:
            zf.writestr(zipfile.ZipInfo(arc, ZIP_STAMP), data)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _toml_array(items: Sequence[str]) -> str:
    return "[" + ", ".join('"' + item.replace('"', "'") + '"' for item in items) + "]"


def sdist_pyproject(
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras | None = None,
) -> str:
    """A static ``pyproject.toml`` using the in-tree backend (double-quoted strings only)."""
    lines = [
        "[build-system]",
        "requires = []",
        'build-backend = "backend"',
        'backend-path = ["."]',
        "",
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f"dependencies = {_toml_array(requires_dist)}",
    ]
    if requires_python:
        lines.append(f'requires-python = "{requires_python}"')
    if extras:
        lines += ["", "[project.optional-dependencies]"]
        lines += [f'"{extra}" = {_toml_array(reqs)}' for extra, reqs in extras.items()]
    return "\n".join(lines) + "\n"


def build_sdist(
    dest: Path,
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras | None = None,
    module_source: str | None = None,
) -> Path:
    """Write ``dest/<name>-<version>.tar.gz``, buildable offline by uv (in-tree backend)."""
    members = {
        "pyproject.toml": sdist_pyproject(name, version, requires_dist, requires_python, extras),
        "PKG-INFO": metadata_text(name, version, requires_dist, requires_python, extras),
        "backend.py": BACKEND_SOURCE,
        f"src/{module_name(name)}/__init__.py": _source(module_source, name, version, ["sdist"]),
    }
    top = f"{dist_name(name)}-{version}"
    return _write(dest / sdist_filename(name, version), _tar_gz_bytes(top, members))


def _tar_gz_bytes(top: str, members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        for rel, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size, info.mtime, info.mode = len(data), TAR_MTIME, 0o644
            tf.addfile(info, io.BytesIO(data))
    return _fixed_gzip_time(buffer.getvalue())


def _fixed_gzip_time(data: bytes) -> bytes:
    """Zero the gzip header mtime (bytes 4..8) so archives are byte-identical across runs."""
    return data[:4] + b"\0\0\0\0" + data[8:]
