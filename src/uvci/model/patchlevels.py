"""The exact CPython version each cell of the plan is evaluated at.

Locks carry patch-level markers (``python_full_version < '3.11.4'``), so a cell planned at
``3.11.0`` lists packages that ``uv sync`` on any current 3.11 does not install. A cell is
evaluated at the Python it will really run:

1. a version given in full (``--python 3.11.7``);
2. the interpreter's own version, where uvci has it: ``uvci run`` (the interpreter it found for
   the cell) and ``uvci prefetch`` (the running interpreter, for its own cell: in a generated
   job, the cell's Python);
3. else the latest patch release of that minor that uvci knows (:data:`LATEST_PATCH`), what CI
   images of that minor run;
4. else (a minor newer than the table) ``3.X.0``.
"""

from __future__ import annotations

from collections.abc import Mapping

# The latest CPython release of each minor, from uv 0.13.9's Python download list, checked on
# this date. Update both together (`uv python list --all-versions --only-downloads`).
LATEST_PATCH_AS_OF = "2026-11-30"
LATEST_PATCH = {
    "3.8": "3.8.20",
    "3.9": "3.9.25",
    "3.10": "3.10.22",
    "3.11": "3.11.18",
    "3.12": "3.12.16",
    "3.13": "3.13.18",
    "3.14": "3.14.10",
    "3.15": "3.15.2",
}


def full_version(python: str, interpreters: Mapping[str, str] | None = None) -> str:
    """The ``python_full_version`` cell ``python`` (``3.11``) is planned at; see above."""
    if python.count(".") >= 2:
        return python
    found = (interpreters or {}).get(python)
    if found and found.startswith(f"{python}."):
        return found
    return LATEST_PATCH.get(python, f"{python}.0")
