"""`uvci generate` writes, and shows, only files inside the project.

A symlinked ``.gitlab`` or ``.gitlab/ci`` (or a generated file linked elsewhere) would make
every write land outside the repository, and the "edited by hand" diff print a file from
elsewhere. :func:`refuse_links_out` checks each path before anything is read or written: every
link on the way must stay inside the project. A link inside it is followed as any path is
(and the atomic write replaces a linked file itself, never its target).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from uvci.errors import FatalError


def _inside(base: Path, path: Path) -> bool:
    resolved = path.resolve()
    return resolved == base or base in resolved.parents


def refuse_links_out(root: Path, paths: Iterable[Path | str]) -> None:
    """One line naming the first link that leads out of ``root``, on the way to any of
    ``paths`` (relative to ``root``)."""
    base = root.resolve()
    for path in paths:
        step = root
        for part in Path(path).parts:
            step = step / part
            if step.is_symlink() and not _inside(base, step):
                raise FatalError(
                    f"{step}: a link out of the project; uvci generate writes and shows only "
                    "files inside it: replace the link with a directory (or file) of the project"
                )
