"""A job image uv does not publish (UVC023): the job cannot start."""

from __future__ import annotations

import re
from collections.abc import Iterator

from uvci.doctor.context import Context
from uvci.doctor.model import Finding, Rule, Severity
from uvci.doctor.rules_python import image_loc
from uvci.gitlab.generate.images import FIRST_UV, PUBLISHED
from uvci.gitlab.read.variables import expand

# ghcr.io/astral-sh/uv:<version>-<variant> (or docker.io's astral/uv)
_UV_TAG = re.compile(r"(?:^|/)(?:astral-sh|astral)/uv:(\d+)\.(\d+)(?:\.\d+)?-(\S+)$")
# tags uv stopped publishing in 0.10.0 (uv #17755): bookworm, alpine3.21, python3.8
_ENDED = re.compile(r"(^|-)(bookworm|alpine3\.21)(-|$)|^python3\.8-")


def uvc023(ctx: Context) -> Iterator[Finding]:
    for job in ctx.uv_jobs():
        if not job.image:
            continue
        image = expand(job.image, ctx.env(job))
        match = _UV_TAG.search(image)
        if match is None or (int(match.group(1)), int(match.group(2))) < FIRST_UV[:2]:
            continue
        if _ENDED.search(match.group(3)):
            yield Finding(
                "UVC023",
                f"image `{image}` does not exist: uv publishes no bookworm, alpine3.21 or "
                f"python3.8 images from {'.'.join(map(str, FIRST_UV))} on",
                image_loc(ctx, job),
                (job.name,),
                advice=f"use `{_suggest(match.group(3), image)}` (Debian trixie)",
            )


UVC023 = Rule(
    "UVC023",
    "an image uv does not publish",
    Severity.MAJOR,
    "uv stopped publishing its `bookworm`, `alpine3.21` and `python3.8` images with 0.10.0 "
    "(uv #17755): a tag such as `0.10.2-python3.12-bookworm-slim` names an image that was "
    "never built. (Tags of older uv versions still exist.)",
    "The job cannot pull its image: it fails before running anything, in every pipeline.",
    "Use the Debian trixie image of the same uv and Python "
    "(`ghcr.io/astral-sh/uv:<version>-python3.X-trixie-slim`), or `-alpine`.",
    uvc023,
)


def _suggest(variant: str, image: str) -> str:
    python = re.search(r"python(3\.\d+)", variant)
    minor = python.group(1) if python and python.group(1) in PUBLISHED["trixie-slim"] else "3.13"
    slim = "-slim" if variant.endswith("-slim") or "-" not in variant else ""
    head = image.rsplit(":", 1)[0]
    version = image.rsplit(":", 1)[1].split("-", 1)[0]
    return f"{head}:{version}-python{minor}-trixie{slim}"


RULES: tuple[Rule, ...] = (UVC023,)
