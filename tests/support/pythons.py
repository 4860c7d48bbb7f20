"""Find the CPython interpreters installed on this machine (no downloads, no pyenv shims)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

MATRIX = ("3.10", "3.11", "3.12", "3.13")


def _patch(path: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path.name))


def _pyenv_roots() -> list[Path]:
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    return [*roots, Path("/root/.pyenv"), Path.home() / ".pyenv"]


def find_python(minor: str) -> Path | None:
    """The newest ``<pyenv root>/versions/<minor>.N/bin/python``, else ``python<minor>`` on PATH."""
    for root in _pyenv_roots():
        versions = root / "versions"
        if not versions.is_dir():
            continue
        found = [
            d / "bin" / "python"
            for d in versions.iterdir()
            if re.fullmatch(re.escape(minor) + r"\.\d+", d.name)
            and (d / "bin" / "python").is_file()
        ]
        if found:
            return max(found, key=lambda p: _patch(p.parent.parent))
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if "shims" in directory:  # pyenv shims fail for versions that are not selected
            continue
        exe = shutil.which(f"python{minor}", path=directory)
        if exe:
            return Path(exe)
    return None


def find_pythons(minors: tuple[str, ...] = MATRIX) -> dict[str, Path]:
    """``{"3.10": Path(...), ...}`` for the minors that are installed (missing ones left out)."""
    found = {minor: find_python(minor) for minor in minors}
    return {minor: path for minor, path in found.items() if path is not None}


def interpreter_path(path: str) -> str:
    """``path`` without pyenv's shim directories (a shim of a version pyenv has not selected
    fails, and uv stops at the first ``python3.X`` it finds), plus each installed CPython's own
    ``bin`` at the end: uv finds every matrix interpreter by name, as on a machine without pyenv."""
    kept = [d for d in path.split(os.pathsep) if d and "shims" not in d]
    real = [str(exe.parent) for exe in find_pythons().values()]
    return os.pathsep.join([*kept, *(d for d in real if d not in kept)])


def host_glibc() -> tuple[int, int]:
    """The glibc of this machine, ``(2, 36)`` on Debian bookworm, ``(2, 41)`` on trixie (uv's
    images): a real ``uv sync`` installs the wheels it allows. ``(0, 0)`` when unknown."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        text = ""
    found = re.search(r"(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)
