"""Build wheels from the sdists in a wheelhouse with ``uv build --wheel``.

For each chosen cell that installs a package from its sdist, :class:`Builder` reuses a wheel
built by this run from the same sdist (by sha256) when its tags fit the cell, else builds one
(a wheel recorded by an earlier run is never trusted: a restored cache may have written it; a
rebuild with the same bytes leaves the earlier file untouched) with, in order: the
interpreter given for the cell (``interpreters``, e.g. ``--build-python``), the running
interpreter when it is the cell's Python, or whatever uv finds for ``--python 3.X`` (installed,
or downloaded when the user's uv settings allow it). A failure of the first two is a
:class:`FatalError`; when uv finds no interpreter, the sdist stays in the wheelhouse with a note and
the cell builds it at install time. Cells with a named interpreter go first, so one pure-Python
wheel they build serves every other cell.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from uvci.errors import FatalError, ProcessError
from uvci.model.distname import inside
from uvci.model.plan import Cell, PlannedPackage
from uvci.model.platforms import Target
from uvci.model.project import minor_of
from uvci.util import uvproc
from uvci.util.atomicfile import file_sha256
from uvci.util.progress import Reporter
from uvci.wheelhouse.manifest import FileEntry

BUILD_DIR_PREFIX = ".uvci-build-"


def running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def build_interpreter(python: str, interpreters: Mapping[str, str | Path]) -> tuple[str, bool]:
    """``(interpreter, named)`` that builds for cell ``python``; not named: a request for uv."""
    minor = minor_of(python)
    given = interpreters.get(python) or interpreters.get(minor)
    if given:
        return str(given), True
    if minor == running_python():
        return sys.executable, True
    return minor, False


def fits(wheel: str, priority: Mapping[Tag, int]) -> bool:
    try:
        tags = parse_wheel_filename(wheel)[3]
    except InvalidWheelFilename:
        return False
    return any(tag in priority for tag in tags)


def build_wheel(sdist: Path, interpreter: str, project_root: Path, dest_dir: Path) -> Path:
    """``uv build --wheel`` ``sdist`` with ``interpreter``; the wheel lands in ``dest_dir``.

    Runs in ``project_root`` so the project's uv settings (index, credentials) reach the build
    requirements. The wheel is built in a private temp dir and moved in whole; a failed build
    is a :class:`ProcessError`.
    """
    with tempfile.TemporaryDirectory(prefix=BUILD_DIR_PREFIX, dir=dest_dir) as temp:
        wheel = uvproc.build_wheel(sdist, interpreter, Path(temp), cwd=project_root)
        final = inside(dest_dir, wheel.name)
        if not _same_file(final, wheel):
            if final.is_symlink() or (final.exists() and not final.is_file()):
                _remove(final)
            os.replace(wheel, final)
    return final


def _same_file(old: Path, new: Path) -> bool:
    """Whether regular file ``old`` holds ``new``'s bytes (a reproducible rebuild: kept as is)."""
    try:
        st = old.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size != new.stat().st_size:
        return False
    return file_sha256(old) == file_sha256(new)


def _remove(path: Path) -> None:
    if stat.S_ISDIR(path.lstat().st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def failure(sdist: Path, interpreter: str, exc: ProcessError) -> FatalError:
    return FatalError(
        f"{sdist.name}: `uv build --wheel` with {interpreter} failed: {exc.tail()}; build it "
        "by hand to see the full log, or add a wheel for it to the index"
    )


@dataclass
class Builder:
    """Turns the chosen cells' sdists into wheels; see the module docstring."""

    wheelhouse: Path
    project_root: Path
    target: Target
    interpreters: Mapping[str, str | Path]
    reporter: Reporter
    unbuilt: dict[str, list[str]] = field(default_factory=dict)  # "name version" -> pythons

    def build_cells(self, cells: Sequence[Cell], built: dict[str, FileEntry]) -> list[str]:
        """Adds new wheels to ``built``; returns notes on sdists left for the cells to build."""
        notes: list[str] = []
        for cell in sorted(cells, key=lambda c: not self.interpreter(c)[1]):
            priority = self.target.tag_priority(cell.python)
            for package in cell.packages:
                if package.kind == "sdist" and not _has_build(package, priority, built):
                    notes += self.build_one(cell, package, priority, built)
        return notes + [
            f"{what}: only an sdist, and no Python {', '.join(pys)} found here to build it: "
            "those cells build it at install time (or pass --build-python 3.X=PATH)"
            for what, pys in self.unbuilt.items()
        ]

    def interpreter(self, cell: Cell) -> tuple[str, bool]:
        return build_interpreter(cell.python, self.interpreters)

    def build_one(
        self,
        cell: Cell,
        package: PlannedPackage,
        priority: Mapping[Tag, int],
        built: dict[str, FileEntry],
    ) -> list[str]:
        assert package.file is not None
        interpreter, named = self.interpreter(cell)
        sdist = self.wheelhouse / package.file
        try:
            wheel = build_wheel(sdist, interpreter, self.project_root, self.wheelhouse)
        except ProcessError as exc:
            if named:
                raise failure(sdist, interpreter, exc) from None
            self.unbuilt.setdefault(f"{package.name} {package.version}", []).append(cell.python)
            return []
        if not fits(wheel.name, priority):
            wheel.unlink()
            return [
                f"{wheel.name}: built with {interpreter} but does not fit Python "
                f"{cell.python} on {self.target.name}; the cell builds it at install time"
            ]
        size = wheel.stat().st_size
        built[wheel.name] = FileEntry(
            file_sha256(wheel), size, "built", package.file, package.sha256
        )
        self.reporter.file_done("built", wheel.name, size)
        return []


def _has_build(
    package: PlannedPackage, priority: Mapping[Tag, int], built: Mapping[str, FileEntry]
) -> bool:
    return any(e.sdist_sha256 == package.sha256 and fits(n, priority) for n, e in built.items())
