"""A tiny in-tree PEP 517/660 build backend: stdlib only, needs no network and no index.

Used by the test sdists and by the projects in tests/data/projects (``backend-path = ["."]``,
``requires = []``). It reads the ``[project]`` table of ``pyproject.toml`` (string values and
arrays of strings; ``tomllib`` is not on 3.10, so arrays are read with ``ast.literal_eval``) and
packages ``src/*`` or the top-level module named after the project. This file is copied verbatim
into every sdist and test project; tests/unit/test_support_dists.py checks the copies are equal.
"""

import ast
import base64
import hashlib
import os
import re
import zipfile
from collections.abc import Iterator
from typing import Any

Tables = dict[str, dict[str, Any]]

_STAMP = (2020, 1, 1, 0, 0, 0)


def _tables() -> Tables:
    with open("pyproject.toml", encoding="utf-8") as f:
        text = f.read()
    tables: Tables = {}
    current: dict[str, Any] = {}
    pattern = r'^\[\[?([^\]\n]+)\]\]?\s*$|^([\w"-]+)\s*=\s*(".*?"|\[.*?\])\s*$'
    for m in re.finditer(pattern, text, re.M | re.S):
        if m.group(1):
            current = tables.setdefault(m.group(1).strip(), {})
        else:
            current[m.group(2).strip('"')] = ast.literal_eval(m.group(3))
    return tables


def _metadata() -> tuple[str, str, str]:
    tables = _tables()
    project = tables["project"]
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {r}" for r in project.get("dependencies", [])]
    for extra, reqs in tables.get("project.optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            spec, _, marker = req.partition(";")
            marker = f"({marker.strip()}) and " if marker.strip() else ""
            lines.append(f'Requires-Dist: {spec.strip()}; {marker}extra == "{extra}"')
    return project["name"], project["version"], "\n".join(lines) + "\n"


def _files(name: str) -> Iterator[tuple[str, str]]:
    root = "src" if os.path.isdir("src") else "."
    module = re.sub(r"[-_.]+", "_", name).lower()
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for fn in sorted(files):
            rel = os.path.relpath(os.path.join(base, fn), root)
            if root == "src" or rel.startswith(module + os.sep) or rel == module + ".py":
                yield rel.replace(os.sep, "/"), os.path.join(base, fn)


def _write_wheel(directory: str, editable: bool) -> str:
    name, version, metadata = _metadata()
    dist = re.sub(r"[-_.]+", "_", name).lower()
    filename = f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = []
    if editable:
        src = os.path.abspath("src" if os.path.isdir("src") else ".")
        entries.append((f"_{dist}_editable.pth", (src + "\n").encode()))
    else:
        for arcname, path in _files(name):
            with open(path, "rb") as f:
                entries.append((arcname, f.read()))
    entries.append((f"{info}/METADATA", metadata.encode()))
    wheel = "Wheel-Version: 1.0\nGenerator: uvci-test-backend\nRoot-Is-Purelib: true\n"
    wheel += "Tag: py3-none-any\n"
    entries.append((f"{info}/WHEEL", wheel.encode()))
    record: list[str] = []
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries:
            zf.writestr(zipfile.ZipInfo(arcname, _STAMP), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", _STAMP), "\n".join(record) + "\n")
    return filename


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None
) -> str:
    return _write_wheel(wheel_directory, editable=False)


def build_editable(
    wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None
) -> str:
    return _write_wheel(wheel_directory, editable=True)
