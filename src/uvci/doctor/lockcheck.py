"""Whether uv.lock is up to date, checked as ``uvci plan`` checks it, before ``--fix`` adds
``--locked`` (which would fail every job on a stale lock)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from uvci.planning import LOCK_CHECK, first_line, is_stale
from uvci.util.uvproc import run_uv


@functools.lru_cache(maxsize=16)
def why_not_fresh(directory: Path) -> str | None:
    """None when ``directory/uv.lock`` matches its pyproject.toml; else why it cannot be
    trusted (stale, or it could not be checked)."""
    if not (directory / "pyproject.toml").is_file():
        return f"no pyproject.toml next to {directory / 'uv.lock'} to check it against"
    rc, _, err = run_uv([*LOCK_CHECK, "--python", sys.executable], cwd=directory)
    if rc not in (0, 127) and not is_stale(err):
        rc, _, err = run_uv(list(LOCK_CHECK), cwd=directory)  # our Python may be outside the range
    if rc == 0:
        return None
    if rc == 127:
        return "uv not found: could not check that uv.lock is up to date"
    if is_stale(err):
        return f"{directory / 'uv.lock'} is out of date with pyproject.toml: run `uv lock` first"
    return f"could not check {directory / 'uv.lock'} ({first_line(err)})"
