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
    PODMAN_GCL,
    REPO,
    Builder,
    debian_mirror,
    locked_uv,
    python_builds,
    uv_image,
    uv_requirement,
    uv_version,
)
from uvci.gitlab.generate import catalog
from uvci.util import uvproc

BOOTSTRAP = REPO / "scripts" / "bootstrap-tools"


def test_one_uv_version_named_in_pyproject_and_used_everywhere() -> None:
    """pyproject.toml's `uv` group pins the tests' uv; uv.lock records it; the images, the uv the
    tests run, bootstrap-tools and the component's default image tag all take it from there."""
    pins = re.findall(r'"uv==(\d+\.\d+\.\d+)"', (REPO / "pyproject.toml").read_text())
    assert pins == [uv_version()]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", locked_uv().wheel_hash)
    assert uvproc.uv_version() == uv_version()  # the uv on the tests' PATH (the `uv` group's)
    assert f"uv-version:\n      default: {uv_version()}" in catalog.template_text()
    text = BOOTSTRAP.read_text()
    assert '"uv==$UV_VERSION"' in text and "uv.lock" in text  # read from the lock, not repeated
    assert not re.search(r"uv==\d|UV_VERSION=\d", text)
    version = subprocess.run(
        ["bash", "-c", f"sed -n '/^UV_VERSION=/p' {BOOTSTRAP} | head -1 | cut -d= -f2- | "
         f"(read -r expr; root={REPO}; eval echo $expr)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == uv_version()


def test_the_locked_uv_is_installed_by_the_hash_uv_lock_records() -> None:
    locked = locked_uv()
    assert uv_requirement(locked.version) == f"uv=={locked.version} --hash={locked.wheel_hash}\n"


def test_another_uv_takes_the_index_hashes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def fake_run(argv, *, input=None, **_):  # type: ignore[no-untyped-def]
        calls.append((argv, input))
        return "uv==0.12.0 \\\n    --hash=sha256:" + "0" * 64 + "\n"

    monkeypatch.setattr(images, "_run", fake_run)
    assert "--hash=sha256:" in uv_requirement("0.12.0")
    ((argv, given),) = calls
    assert given == b"uv==0.12.0\n"
    assert "--generate-hashes" in argv and argv[argv.index("--python-platform") + 1] == (
        "x86_64-unknown-linux-musl")  # fmt: skip
    assert "--no-cache" in argv and "--no-config" in argv  # from the index, not a cache


def test_podman_env_keeps_the_storage_of_the_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """CI's podman storage (CONTAINERS_STORAGE_CONF, read at import) survives the tests'
    hermetic environment, which drops variables it does not know."""
    monkeypatch.setattr(images, "STORAGE_CONF", "/tmp/ci/storage.conf")
    env = images.podman_env({"PATH": "/usr/bin"})
    assert env["CONTAINERS_STORAGE_CONF"] == "/tmp/ci/storage.conf"
    assert env["CONTAINERS_CONF"].endswith("containers.conf")
    monkeypatch.setattr(images, "STORAGE_CONF", "")
    assert "CONTAINERS_STORAGE_CONF" not in images.podman_env({"PATH": "/usr/bin"})


def test_build_env_drops_the_tests_uv_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:1/simple")
    monkeypatch.setenv("HTTPS_PROXY", images.DEAD_PROXY)
    env = images._build_env()
    assert "UV_OFFLINE" not in env and "UV_DEFAULT_INDEX" not in env and "HTTPS_PROXY" not in env
    assert env["UV_PYTHON_DOWNLOADS"] == "never"


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
