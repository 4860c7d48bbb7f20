"""What an image name or a version string says about Python and uv."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^(?:cpython-|python)?(3\.\d{1,2})(?:\.\d+)?(?:-.*)?$")
_IMAGE_PYTHON = re.compile(r"(?:^|[/:-])python[:-]?(3\.\d{1,2})(?![\d])")
_UV_IMAGE = re.compile(r"(?:ghcr\.io/)?astral-sh/uv(?::|$)|(?:^|/)astral/uv(?::|$)")


def minor_version(text: str) -> str | None:
    match = _VERSION.match(text.strip())
    return match.group(1) if match else None


def image_python(image: str | None) -> str | None:
    """The CPython minor an image name promises (``python:3.12-slim``, ``uv:python3.12-...``)."""
    if not image:
        return None
    match = _IMAGE_PYTHON.search(image.rsplit("/", 1)[-1])
    return match.group(1) if match else None


def is_uv_image(image: str | None) -> bool:
    return bool(image and _UV_IMAGE.search(image))
