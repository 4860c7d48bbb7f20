"""How much a wheelhouse keeps beyond the files the current lock needs (``--retain``).

Files no longer needed stay, most recently used first, while the wheelhouse fits a budget:
two branches whose locks differ stop refetching each other's files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from uvci.errors import FatalError
from uvci.model.distname import DIST_SUFFIXES, plain_dist_name
from uvci.model.plan import Plan


@dataclass(frozen=True)
class Retain:
    """How much a prune keeps beyond what the fill needs: ``factor`` times the needed bytes, or
    ``size`` bytes in all (``--retain 2x`` / ``--retain 500MB``)."""

    factor: float | None = None
    size: int | None = None

    def budget(self, needed_bytes: int) -> int:
        return self.size if self.size is not None else int((self.factor or 0) * needed_bytes)


_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9}


def parse_retain(text: str) -> Retain:
    """``2x`` or ``500MB``; a clear error otherwise."""
    value = text.strip().upper()
    try:
        if value.endswith("X"):
            return Retain(factor=float(value[:-1]))
        number = value.rstrip("KMGB")
        return Retain(size=int(float(number) * _UNITS[value[len(number) :].strip()]))
    except (ValueError, KeyError):
        raise FatalError(
            f"--retain {text!r}: give a multiple of the cell's bytes (2x) or a size (500MB)"
        ) from None


def retained(
    present: Mapping[str, int], needed: Iterable[str], used: Mapping[str, int], budget: int
) -> set[str]:
    """Files no longer needed that stay within ``budget`` bytes (needed files included), most
    recently used first; a file with no recorded use goes first."""
    needed = set(needed)
    spare = budget - sum(size for name, size in present.items() if name in needed)
    keep: set[str] = set()
    old = [name for name in present if name not in needed and name in used]
    for name in sorted(old, key=lambda n: (-used[n], n)):
        if present[name] <= spare:
            keep.add(name)
            spare -= present[name]
    return keep


def retainable(present: Mapping[str, int], plan: Plan) -> dict[str, int]:
    """The files ``--retain`` may keep: plain dist names of no (name, version) the plan
    installs. Another file of such a version (a planted wheel of higher priority than the
    locked one, a stale build) would be a candidate uv picks and then rejects by hash: a cell
    that fails until the cache expires."""
    installed = {(p.name, p.version) for c in plan.cells for p in c.packages}
    return {
        name: size
        for name, size in present.items()
        if plain_dist_name(name) and dist_key(name) not in installed
    }


def dist_key(name: str) -> tuple[str, str | None]:
    """(canonical name, version) a dist file name declares; ("", None) when it declares none."""
    try:
        if name.endswith(".whl"):
            project, version = parse_wheel_filename(name)[:2]
        else:
            project, version = parse_sdist_filename(_as_tar_gz(name))
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return "", None
    return canonicalize_name(project), str(version)


def _as_tar_gz(name: str) -> str:
    """An sdist name with its archive suffix as ``.tar.gz`` (what ``packaging`` parses)."""
    for suffix in DIST_SUFFIXES:
        if name.endswith(suffix) and suffix != ".whl":
            return name[: -len(suffix)] + ".tar.gz"
    return name
