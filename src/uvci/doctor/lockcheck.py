"""Whether uv.lock is up to date, checked as ``uvci plan`` checks it: before ``--fix`` adds
``--locked`` (which would fail every job on a stale lock), and for UVC024 (a stale lock)."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from uvci.planning import LOCK_CHECK, first_line, is_stale
from uvci.util.uvproc import run_uv

# uv's own words for what changed (its --verbose log), e.g. "mismatched requirements for: `x`"
_REASON = re.compile(r"(?:Resolving despite|Ignoring) existing lockfile due to ([^\n]+)")
_CHECK = (*(arg for arg in LOCK_CHECK if arg != "--quiet"), "--verbose")


@functools.lru_cache(maxsize=16)
def _outcome(directory: Path) -> tuple[int, str]:
    rc, _, err = run_uv([*_CHECK, "--python", sys.executable], cwd=directory)
    if rc not in (0, 127) and not is_stale(err):
        rc, _, err = run_uv(list(_CHECK), cwd=directory)  # our Python may be outside the range
    return rc, err


def stale_because(directory: Path) -> str | None:
    """uv's reason when ``directory/uv.lock`` is out of date with its pyproject.toml; None
    when it is current or could not be checked (no pyproject.toml, no uv, no interpreter)."""
    if not (directory / "pyproject.toml").is_file():
        return None
    rc, err = _outcome(directory)
    if rc in (0, 127) or not is_stale(err):
        return None
    found = _REASON.search(err)
    return found.group(1).strip().rstrip(":") if found else _error_line(err)


def why_not_fresh(directory: Path) -> str | None:
    """None when ``directory/uv.lock`` matches its pyproject.toml; else why it cannot be
    trusted (stale, or it could not be checked)."""
    if not (directory / "pyproject.toml").is_file():
        return f"no pyproject.toml next to {directory / 'uv.lock'} to check it against"
    rc, err = _outcome(directory)
    if rc == 0:
        return None
    if rc == 127:
        return "uv not found: could not check that uv.lock is up to date"
    if is_stale(err):
        return f"{directory / 'uv.lock'} is out of date with pyproject.toml: run `uv lock` first"
    return f"could not check {directory / 'uv.lock'} ({_error_line(err)})"


def _error_line(err: str) -> str:
    """uv's ``error:`` line (the verbose log puts DEBUG lines before it)."""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    return first_line(errors[0] if errors else err)
