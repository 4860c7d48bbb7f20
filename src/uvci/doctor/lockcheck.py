"""Whether uv.lock is up to date, checked as ``uvci plan`` checks it, before ``--fix`` adds
``--locked`` (which would fail every job on a stale lock)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from uvci.util.uvproc import run_uv

_CHECK = ("lock", "--check", "--offline", "--quiet", "--no-progress")


@functools.lru_cache(maxsize=16)
def why_not_fresh(directory: Path) -> str | None:
    """None when ``directory/uv.lock`` matches its pyproject.toml; else why it cannot be
    trusted (stale, or it could not be checked)."""
    if not (directory / "pyproject.toml").is_file():
        return f"no pyproject.toml next to {directory / 'uv.lock'} to check it against"
    rc, _, err = run_uv([*_CHECK, "--python", sys.executable], cwd=directory)
    if rc not in (0, 127) and not _stale(err):
        rc, _, err = run_uv(list(_CHECK), cwd=directory)  # our Python may be outside the range
    if rc == 0:
        return None
    if rc == 127:
        return "uv not found: could not check that uv.lock is up to date"
    if _stale(err):
        return f"{directory / 'uv.lock'} is out of date with pyproject.toml: run `uv lock` first"
    first = next((line for line in err.splitlines() if line.strip()), "").strip()
    return f"could not check {directory / 'uv.lock'} ({first.removeprefix('error: ')})"


def _stale(err: str) -> bool:
    """uv's words for a lock that does not match pyproject.toml (offline: new requirements
    cannot even be resolved)."""
    return "needs to be updated" in err or "No solution found" in err
