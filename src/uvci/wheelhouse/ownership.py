"""Which directories uvci may remove files from: only a wheelhouse it created and marked.

``uvci prefetch`` removes the files of its wheelhouse that no cell needs. Pointed at the wrong
directory (``--wheelhouse ""`` from an unset CI variable, ``.``, ``/``, a directory holding
anything else) that would delete the user's files. :func:`claim_wheelhouse` is the one check:

- a directory that does not exist is created and gets the marker file :data:`MARKER`;
- an existing directory is used when it holds the marker, when it is empty (nothing of anyone
  else's to lose; it gets the marker), or when it is a wheelhouse of an earlier uvci (its
  ``manifest.json`` is uvci's format; it gets the marker where it is writable);
- a wheelhouse that is a symbolic link, or sits in a ``.uvci`` that is one, is refused (a
  restored cache may plant the link to make uvci remove another directory's files);
- anything else is refused with one line (exit 2) and nothing is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from uvci.errors import FatalError
from uvci.util.atomicfile import STATE_DIR
from uvci.util.saferead import read_text_bounded
from uvci.wheelhouse.manifest import MANIFEST, MAX_MANIFEST_BYTES

MARKER = ".uvci-wheelhouse"
MARKER_TEXT = (
    "This directory is a wheelhouse created by uvci prefetch. uvci removes files here that\n"
    "no cell of the plan needs; keep nothing else in it.\n"
)


def claim_wheelhouse(wheelhouse: str | Path) -> Path:
    """``wheelhouse`` (a path, or the option's text) as an absolute path, created or checked
    as uvci's own; else FatalError."""
    if not str(wheelhouse).strip():
        raise FatalError(
            '--wheelhouse "": empty (an unset CI variable?); pass a directory for the '
            "wheelhouse, e.g. .uvci/wheels"
        )
    path = Path(os.path.abspath(wheelhouse))
    if path.parent == path:
        raise _refused(path, "is the file-system root")
    for link in (path, path.parent) if path.parent.name == STATE_DIR else (path,):
        if link.is_symlink():
            raise FatalError(
                f"{link}: is a symbolic link (to {os.readlink(link)!r}); uvci writes and removes "
                "files in its wheelhouse, so it never follows a link there (a restored cache can "
                "plant one): remove the link and run again"
            )
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        _create(path)
    elif not path.is_dir():
        raise _refused(path, "is not a directory")
    elif not (path / MARKER).is_file():
        _adopt_legacy(path)
    return path


def _refused(path: Path, why: str) -> FatalError:
    return FatalError(
        f"{path}: {why}, not a wheelhouse uvci created (no {MARKER} in it), and uvci removes "
        "files from its wheelhouse; pass --wheelhouse a new or empty directory, e.g. .uvci/wheels"
    )


def _create(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise FatalError(
            f"{path}: cannot create the wheelhouse: {exc.strerror or exc}; check permissions"
        ) from None


def _adopt_legacy(path: Path) -> None:
    """A wheelhouse of a uvci without markers (its manifest says so) gets one; else refused."""
    try:
        data = json.loads(read_text_bounded(path / MANIFEST, MAX_MANIFEST_BYTES))
    except (OSError, ValueError, RecursionError):
        data = None
    if not (isinstance(data, dict) and data.get("format") == 1 and "files" in data):
        raise _refused(path, "holds other files")
    with contextlib.suppress(OSError):  # read-only: uvci cannot remove anything there either
        (path / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
