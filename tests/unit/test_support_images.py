"""tests/support/images.py and podman-gcl without building anything (no podman needed)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support import images
from tests.support.images import (
    BOOTSTRAP,
    PODMAN_GCL,
    Builder,
    debian_mirror,
    python_builds,
    uv_image,
    uv_version,
)


def test_uv_version_is_the_one_bootstrap_tools_installs() -> None:
    text = BOOTSTRAP.read_text()
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv_version())
    assert '"uv==$UV_VERSION"' in text  # the pin is used, not repeated
    assert "uv==0" not in text


def test_uv_image_is_the_upstream_name() -> None:
    assert uv_image("3.12", "0.13.9") == "ghcr.io/astral-sh/uv:0.13.9-python3.12-trixie-slim"
    assert uv_image("3.10", "0.13.9", "bookworm").endswith(":0.13.9-python3.10-bookworm-slim")


def test_mirror_can_be_overridden(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UVCI_DEBIAN_MIRROR", "http://mirror.invalid/debian")
    assert debian_mirror() == "http://mirror.invalid/debian"


def test_recipe_hash_follows_the_inputs(tmp_path: Path, pythons: dict[str, Path]) -> None:
    builds = python_builds(tuple(pythons)[:1])
    build = next(iter(builds.values()))
    assert re.fullmatch(r"3\.1\d\.\d+", build.version)
    assert (build.prefix / "bin" / f"python{build.minor}").exists()
    builder = Builder(store=tmp_path)
    text, recipe = builder.python_containerfile(build, "0.13.9")
    assert text.startswith(f"FROM {builder.base_image}\n") and f"uvci.recipe={recipe}" in text
    assert builder.python_containerfile(build, "0.13.9")[1] == recipe  # stable
    assert builder.python_containerfile(build, "0.14.0")[1] != recipe  # another uv
    other = replace(build, version=build.version + "1")
    assert builder.python_containerfile(other, "0.13.9")[1] != recipe  # another CPython
    # another Debian suite: another base image, so another util and python recipe
    bookworm = Builder("bookworm", store=tmp_path)
    assert bookworm.base_image != builder.base_image
    assert bookworm.util_containerfile()[1] != builder.util_containerfile()[1]


def test_podman_gcl_strips_newlines_and_removes_containers_one_by_one(tmp_path: Path) -> None:
    """podman 4.3 ignores an id ending in a newline, and `rm -f GONE ID` removes nothing."""
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "podman"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:/usr/bin:/bin"}
    run = subprocess.run
    run([str(PODMAN_GCL), "rm", "-vf", "aaa\n", "bbb\n"], env=env, check=True)
    run([str(PODMAN_GCL), "rm", "-vf", "ccc\n"], env=env, check=True)
    run([str(PODMAN_GCL), "start", "--attach", "ddd\n\n"], env=env, check=True)
    calls = log.read_text().splitlines()
    assert calls == ["rm -vf aaa", "rm -vf bbb", "rm -vf ccc", "start --attach ddd"]


def test_without_podman_skips_locally_and_fails_in_ci(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(images, "unavailable", lambda: "podman is not installed")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="podman is not installed"):
        images.require_images()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="podman is not installed"):
        images.require_images()
