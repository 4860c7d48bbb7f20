"""The fixture universe: every package the test projects resolve, built into one directory.

Built for CPython 3.10-3.13 on x86_64 glibc (the machine is glibc 2.36, the default plan platform
is ``x86_64-manylinux_2_36``). What each package exercises:

- ``alpha`` -> ``beta`` -> ``gamma``: a pure-python dependency chain; ``alpha 1.1`` also needs
  ``backport`` on ``python_version < "3.11"`` (a transitive marker).
- ``fastcalc``: "compiled-like", one wheel per CPython (cp310..cp313) and per platform:
  manylinux_2_17 (+ manylinux2014 compressed), manylinux_2_28, musllinux_1_2, win_amd64,
  manylinux_2_17_aarch64, and an sdist. On glibc 2.36 the manylinux_2_28 wheel wins.
- ``stablecalc``: abi3 wheels ``cp310-abi3`` (manylinux_2_17) and ``cp312-abi3`` (manylinux_2_28):
  3.10/3.11 get the cp310 one, 3.12/3.13 the cp312 one; plus win_amd64 and an sdist.
- ``forky``: 1.0 and 1.5 for any Python; 2.0 and 2.1 only ``Requires-Python >=3.12``
  (2.1 depends on ``beta``), so a project can fork on it.
- ``tomlish`` (for ``python_version < "3.11"``) and ``winonly`` (for ``sys_platform == "win32"``).
- ``fancy``: extras ``color`` -> ``tint``, ``speed`` -> ``stablecalc``.
- ``srconly``: only an sdist (needs ``gamma``); uv builds it with the in-tree backend.
- ``glibcpick``: one version, wheels ``manylinux_2_39`` (too new for glibc 2.36) and
  ``manylinux_2_17``: the older wheel is chosen.
- ``newglibc``: 1.0 has a ``manylinux_2_17`` wheel; 2.0 (what a lock picks) has only a
  ``manylinux_2_39`` wheel and an sdist, so a glibc-2.36 cell builds 2.0 from the sdist.

Every file gets a fixed mtime (served as ``upload-time``), so the universe is byte-identical and
its upload times stable from one session to the next.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.dists import Extras, build_sdist, build_wheel

CPYTHONS = ("310", "311", "312", "313")
UPLOAD_EPOCH = 1704067200  # 2024-01-01T00:00:00Z; file i is uploaded i hours later


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    wheels: Sequence[Sequence[str]] = (("py3-none-any",),)  # one tag tuple per wheel file
    sdist: bool = False
    requires_dist: Sequence[str] = ()
    requires_python: str | None = None
    extras: Extras = field(default_factory=dict)


def _cp_wheels(py: str, abi: str | None = None) -> list[tuple[str, ...]]:
    abi = abi or f"cp{py}"
    tag = f"cp{py}-{abi}"
    return [
        (f"{tag}-manylinux_2_17_x86_64", f"{tag}-manylinux2014_x86_64"),
        (f"{tag}-manylinux_2_28_x86_64",),
        (f"{tag}-musllinux_1_2_x86_64",),
        (f"{tag}-win_amd64",),
        (f"{tag}-manylinux_2_17_aarch64", f"{tag}-manylinux2014_aarch64"),
    ]


def _fastcalc() -> Release:
    wheels = [w for py in CPYTHONS for w in _cp_wheels(py)]
    return Release("fastcalc", "1.0", wheels, sdist=True, requires_python=">=3.10")


def _stablecalc() -> Release:
    wheels = [
        ("cp310-abi3-manylinux_2_17_x86_64", "cp310-abi3-manylinux2014_x86_64"),
        ("cp312-abi3-manylinux_2_28_x86_64",),
        ("cp310-abi3-win_amd64",),
    ]
    return Release("stablecalc", "1.0", wheels, sdist=True, requires_python=">=3.10")


def releases() -> list[Release]:
    return [
        Release("gamma", "1.0"),
        Release("gamma", "1.1", sdist=True),
        Release("beta", "1.0", requires_dist=["gamma>=1"]),
        Release("beta", "2.0", requires_dist=["gamma>=1.1"]),
        Release("backport", "1.0"),
        Release("alpha", "1.0", requires_dist=["beta>=1"]),
        Release("alpha", "1.1", requires_dist=["beta>=2", 'backport>=1; python_version < "3.11"']),
        _fastcalc(),
        _stablecalc(),
        Release("forky", "1.0"),
        Release("forky", "1.5", sdist=True),
        Release("forky", "2.0", requires_python=">=3.12"),
        Release("forky", "2.1", requires_python=">=3.12", requires_dist=["beta>=2"]),
        Release("tomlish", "1.0"),
        Release("winonly", "1.0"),
        Release("tint", "1.0"),
        Release("fancy", "1.0", extras={"color": ["tint>=1"], "speed": ["stablecalc>=1"]}),
        Release("srconly", "1.0", wheels=(), sdist=True, requires_dist=["gamma>=1"]),
        Release(
            "glibcpick",
            "1.0",
            wheels=(("py3-none-manylinux_2_39_x86_64",), ("py3-none-manylinux_2_17_x86_64",)),
        ),
        Release("newglibc", "1.0", wheels=(("py3-none-manylinux_2_17_x86_64",),)),
        Release("newglibc", "2.0", wheels=(("py3-none-manylinux_2_39_x86_64",),), sdist=True),
    ]


def build_release(dest: Path, release: Release) -> list[Path]:
    paths = [
        build_wheel(
            dest,
            release.name,
            release.version,
            tags=tags,
            requires_dist=release.requires_dist,
            requires_python=release.requires_python,
            extras=release.extras,
        )
        for tags in release.wheels
    ]
    if release.sdist:
        paths.append(
            build_sdist(
                dest,
                release.name,
                release.version,
                requires_dist=release.requires_dist,
                requires_python=release.requires_python,
                extras=release.extras,
            )
        )
    return paths


def build_universe(dest: Path, extra: Sequence[Release] = ()) -> list[Path]:
    """Build every release (plus ``extra``) into ``dest``; returns the files in upload order."""
    paths = [p for release in [*releases(), *extra] for p in build_release(dest, release)]
    for i, path in enumerate(paths):
        stamp = UPLOAD_EPOCH + 3600 * i
        os.utime(path, (stamp, stamp))
    return paths
