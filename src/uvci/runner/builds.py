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
from uvci.util.uvproc import ChildGroups, uv_executable


class BuildFailed(Exception):
    def __init__(self, package: str, output: str) -> None:
        super().__init__(f"building {package} failed")
        self.package = package
        self.output = output


def is_pure(wheel: Path) -> bool:
    return wheel.name.endswith("-none-any.whl")


def build_wheel(
    children: ChildGroups, package: LocalPackage, interpreter: Path, out_dir: Path
) -> Path:
    """``uv build --wheel`` of ``package`` into a fresh ``out_dir``; the wheel's path."""
    out_dir = out_dir.resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    cmd = [uv_executable(), "build", "--wheel", "--quiet", "--no-progress", "--python"]
    cmd += [str(interpreter), "--out-dir", str(out_dir), str(package.directory)]
    rc, out, err = children.run(cmd, cwd=package.directory)  # out_dir is absolute
    wheels = sorted(out_dir.glob("*.whl"))
    if rc != 0 or len(wheels) != 1:
        raise BuildFailed(package.name, f"{out}{err}".strip() or f"uv build exited {rc}")
    return wheels[0]


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
