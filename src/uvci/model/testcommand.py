"""The test command as both `uvci run` and the generated pipeline read it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import PurePosixPath


def is_pytest(command: str | Sequence[str]) -> bool:
    """``pytest ...``, ``py.test ...`` or ``python[3.X] -m pytest ...``: pytest, which writes its
    own JUnit report. ``command`` is a shell line or its words."""
    words = _words(command) if isinstance(command, str) else list(command)
    if not words:
        return False
    first = PurePosixPath(words[0]).name
    if first in ("pytest", "py.test"):
        return True
    return first.startswith("python") and words[1:3] == ["-m", "pytest"]


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:  # an unbalanced quote: not a command uvci can read as pytest
        return []
