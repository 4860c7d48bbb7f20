"""Is a local package pure Python? Decides whether its wheel is built once or in every cell.

Decided statically, without building: a package is **compiled** when its build backend is one
that exists to compile (maturin, scikit-build-core, meson-python, ...) or when its directory
holds extension sources or native build files (``*.c``, ``*.pyx``, ``*.rs``, ``Cargo.toml``,
``CMakeLists.txt``, ...), or a ``setup.py`` that declares ``ext_modules``. Otherwise it is
**pure**: its wheel is ``py3-none-any`` and one build serves every Python of the matrix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from uvci.util.tomlio import load_toml

COMPILING_BACKENDS = (
    "maturin",
    "scikit_build_core",
    "mesonpy",
    "pymsbuild",
    "enscons",
    "py_build_cmake",
    "hatch_cython",
)
NATIVE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hpp", ".pyx", ".pxd", ".rs", ".f90", ".cu")
NATIVE_FILES = ("Cargo.toml", "CMakeLists.txt", "meson.build", "build.rs")
SKIPPED_DIRS = ("node_modules", "build", "dist", "target", "__pycache__", "site-packages")
_EXT_MODULES = re.compile(r"\bext_modules\b|\bExtension\(|\bcythonize\(")


@dataclass(frozen=True)
class BuildKind:
    pure: bool
    reason: str  # why, for the pipeline's comment and --help


def build_kind(directory: Path) -> BuildKind:
    """Whether the package in ``directory`` builds a pure-Python wheel; see the module doc."""
    backend = _backend(directory)
    compiling = next((b for b in COMPILING_BACKENDS if backend.startswith(b)), None)
    if compiling:
        return BuildKind(False, f"build backend {backend} compiles extensions")
    native = _first_native_file(directory)
    if native is not None:
        return BuildKind(False, f"{native} is an extension/native build source")
    setup = directory / "setup.py"
    if setup.is_file() and _EXT_MODULES.search(setup.read_text(encoding="utf-8", errors="replace")):
        return BuildKind(False, "setup.py declares extension modules")
    return BuildKind(True, f"build backend {backend or 'setuptools (legacy)'}, no native sources")


def _backend(directory: Path) -> str:
    """The build backend; "" for setuptools' legacy build (no pyproject.toml or no backend)."""
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file() and (directory / "setup.py").is_file():
        return ""
    data = load_toml(pyproject, missing_hint="a local package needs it (or a setup.py)")
    system = data.get("build-system") or {}
    return str(system.get("build-backend") or "")


def _first_native_file(directory: Path) -> str | None:
    """The first native source under ``directory`` (relative path); skips envs, VCS, members."""
    for base, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        nested = base != str(directory)
        if nested and ("pyvenv.cfg" in files or "pyproject.toml" in files):
            dirs[:] = []  # a virtualenv, or another package (a workspace member): not ours
            continue
        for name in sorted(files):
            if name.endswith(NATIVE_SUFFIXES) or name in NATIVE_FILES:
                return os.path.relpath(os.path.join(base, name), directory)
    return None
