"""The project's own wheels (and its workspace members'): built once when pure Python.

A local package of the lock (editable or directory source) is built with ``uv build --wheel``
with the first cell's interpreter. A ``py3-none-any`` wheel serves every cell; any other wheel
(a compiled project) is rebuilt per cell with that cell's interpreter. Virtual packages are not
installed, as ``uv sync`` does not install them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from uvci.model.plan import LocalPackage
from uvci.util import uvproc
from uvci.util.uvproc import ChildGroups


def is_pure(wheel: Path) -> bool:
    return wheel.name.endswith("-none-any.whl")


def build_wheel(
    children: ChildGroups, package: LocalPackage, interpreter: Path, out_dir: Path
) -> Path:
    """``uv build --wheel`` of ``package`` into a fresh ``out_dir``; the wheel's path."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    return uvproc.build_wheel(
        package.directory, interpreter, out_dir, cwd=package.directory, run=children.run
    )


def build_shared(
    children: ChildGroups, packages: tuple[LocalPackage, ...], interpreter: Path, dist: Path
) -> dict[str, Path]:
    """Build each package once; keep the pure wheels (``{name: wheel}``) for every cell."""
    shared: dict[str, Path] = {}
    for package in packages:
        wheel = build_wheel(children, package, interpreter, dist / "shared" / package.name)
        if is_pure(wheel):
            shared[package.name] = wheel
    return shared
