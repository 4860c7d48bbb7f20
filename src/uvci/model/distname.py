"""The one check that a name may become a path: a plain distribution file name.

Names come from ``uv.lock`` (a ``filename`` key, the last segment of a URL or path) and from a
restored wheelhouse's ``manifest.json``; a restored cache is written by an attacker. Before
uvci joins a name to the wheelhouse it must be :func:`plain_dist_name`: one path segment of
printable characters, not hidden, ending in a distribution suffix (``.whl``, ``.tar.gz``, ``.zip``
and the other sdist archives uv reads), at most 255 bytes. :func:`inside` joins such a name
to a directory and proves that the result, resolved, is a direct child of it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tar")
MAX_NAME_BYTES = 255
# printable, no path separators, no shell-or-log-hostile whitespace
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!~-]*")


class BadName(ValueError):
    """A name that is not a plain distribution file name."""


def plain_dist_name(name: object) -> bool:
    """True when ``name`` is a plain distribution file name (see the module docstring)."""
    return (
        isinstance(name, str)
        and _PLAIN.fullmatch(name) is not None
        and name.endswith(DIST_SUFFIXES)
        and len(name.encode("utf-8")) <= MAX_NAME_BYTES
    )


def check_dist_name(name: object, what: str = "file name") -> str:
    """``name`` if plain, else :class:`BadName` (its ``repr`` shows any control character)."""
    if not plain_dist_name(name):
        shown = repr(name)[:120]
        raise BadName(f"{what} {shown} is not a plain distribution file name")
    assert isinstance(name, str)
    return name


def inside(directory: Path, name: str) -> Path:
    """``directory / name`` for a plain ``name``, proven a direct child of ``directory`` after
    resolving both (a link to elsewhere is still *named* inside: callers never follow it)."""
    check_dist_name(name)
    path = directory / name
    real_dir = os.path.realpath(directory)
    if os.path.dirname(os.path.join(real_dir, name)) != real_dir:  # pragma: no cover - defence
        raise BadName(f"{name!r} leaves {directory}")
    return path
