"""The images the generated jobs run in: only ones uv publishes for the pinned uv and Python.

From uv's own release workflow (astral-sh/uv, ``.github/workflows/build-docker.yml``, the
"Generate extra image matrix" step; read 2026-11-30): every release publishes
``ghcr.io/astral-sh/uv:<version>-python3.X-trixie-slim`` (on ``python:3.X-slim-trixie``, uv and
uvx in /usr/local/bin) for 3.9-3.14, and ``-python3.X-alpine`` for 3.10-3.14 (3.9 only as
``-alpine3.22``). uv 0.10.0 stopped publishing the ``bookworm`` and ``python3.8`` tags (uv
#17755). Keep this table in step with that workflow when uv adds a Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from uvci.errors import FatalError

IMAGE = "ghcr.io/astral-sh/uv:{uv}-python{python}-{variant}"
CHECKED = "2026-11-30"
FIRST_UV = (0, 10, 0)  # the first uv whose images are all trixie (no bookworm)
PUBLISHED: dict[str, tuple[str, ...]] = {
    "trixie-slim": ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14"),
    "alpine": ("3.10", "3.11", "3.12", "3.13", "3.14"),
}
GLIBC = (2, 41)  # Debian trixie's glibc: what the trixie images run


def image_name(uv_version: str, python: str, variant: str) -> str:
    return IMAGE.format(uv=uv_version, python=python, variant=variant)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def published(pythons: Sequence[str], variant: str) -> tuple[str, ...]:
    """The Pythons of ``pythons`` that have an image (the default matrix keeps only those)."""
    return tuple(p for p in pythons if p in PUBLISHED[variant])


def check_images(uv_version: str, pythons: Sequence[str], variant: str) -> None:
    """One clear line when uv publishes no image for the pinned uv or one of the Pythons."""
    if _version(uv_version) < FIRST_UV:
        raise FatalError(
            f"uv {uv_version}: uvci's jobs run in uv's trixie images, published from uv "
            f"{'.'.join(map(str, FIRST_UV))} on; pin a newer uv ([tool.uv] required-version "
            '= "==X.Y.Z") or install one'
        )
    missing = [p for p in pythons if p not in PUBLISHED[variant]]
    if missing:
        have = ", ".join(PUBLISHED[variant])
        raise FatalError(
            f"--python {','.join(missing)}: uv publishes no {variant} image for it "
            f"(ghcr.io/astral-sh/uv:{uv_version}-python{missing[0]}-{variant}; images exist "
            f"for {have}, checked {CHECKED}); pick Pythons from those"
        )
