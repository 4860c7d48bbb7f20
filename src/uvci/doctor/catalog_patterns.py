"""The rules for patterns seen in real pipelines (UVC016-UVC023), part of the catalog."""

from __future__ import annotations

from uvci.doctor import rules_images as img
from uvci.doctor import rules_patterns as pt
from uvci.doctor.model import Rule, Severity

PATTERN_RULES: tuple[Rule, ...] = (
    Rule(
        "UVC016",
        "uv.lock is a cache path",
        Severity.MAJOR,
        "`uv.lock` is a tracked file. GitLab restores a cache after the checkout, so a cache "
        "that holds uv.lock overwrites the commit's lock with the one an earlier run saved.",
        "Jobs install from an old lock (or fail `--locked` against it) whenever the cache is "
        "older than the commit.",
        "Remove uv.lock from `cache: paths:` (what `--fix` does when other paths remain) and "
        "key the cache on it instead: `key: {files: [uv.lock]}`.",
        pt.uvc016,
    ),
    Rule(
        "UVC017",
        "a fallback key no job writes",
        Severity.MINOR,
        "`fallback_keys` are tried when the job's own key has no cache yet. A fallback that "
        "matches no key any job of the pipeline writes (keys with variables count as any "
        "value) can never be found.",
        "Every new key (a new branch, a lock change) starts cold although a fallback was meant "
        "to warm it.",
        "Use a key a job writes, typically the default branch's, or drop the fallback.",
        pt.uvc017,
    ),
    Rule(
        "UVC018",
        "one cache key for several toolchains",
        Severity.MAJOR,
        "Jobs of different toolchains (say Node and Python) push the same cache key. GitLab "
        "keeps one archive per key: each upload holds only the files its job had, so each "
        "toolchain restores the other's files and misses its own.",
        "Both toolchains start cold on most runs, and the archive churns on every pipeline.",
        "Give each toolchain its own key, e.g. `key: {files: [uv.lock], prefix: python}` and "
        "one keyed on package-lock.json.",
        pt.uvc018,
    ),
    Rule(
        "UVC019",
        "a tool run with uvx is not pinned",
        Severity.MINOR,
        "`uvx ruff`, `uv tool run tox` or `uv tool install X` without a version run whatever "
        "is newest on the index at that moment; the project's uv.lock does not cover them.",
        "A tool release can break (or silently change) the job without any commit.",
        "Pin the tool: `uvx ruff@0.8.0`, `uvx --from 'tox==4.23.2' tox`, or make it a "
        "dependency group and use `uv run`.",
        pt.uvc019,
    ),
    Rule(
        "UVC020",
        "`uv pip install` into an environment `uv sync` manages",
        Severity.MAJOR,
        "`uv sync` makes the project environment match the lock exactly and removes anything "
        "else. A `uv pip install X` before a later `uv sync` in the same job is undone by it.",
        "The job runs without the package it installed (or fails), and the install costs time "
        "for nothing.",
        "Declare the package in pyproject.toml (a dependency group) and `uv sync --group`, or "
        "use `uv run --with X`.",
        pt.uvc020,
    ),
    Rule(
        "UVC021",
        "a failed sync is retried",
        Severity.MAJOR,
        "`uv sync || (rm -rf .venv && uv sync)` and similar retry a failed sync or lock. uv "
        "fails for real reasons (a stale or broken lock, a missing index): the retry hides "
        "them, and without `--locked` the second sync quietly re-resolves.",
        "Broken locks pass CI; the retry doubles the job's install time when it triggers.",
        "Let the job fail: `uv sync --locked` alone, and fix the lock with `uv lock`.",
        pt.uvc021,
    ),
    Rule(
        "UVC022",
        "UV_VERSION is declared but not used",
        Severity.MINOR,
        "The pipeline declares `UV_VERSION` (as uv's GitLab guide does) but no image, installer "
        "or script refers to it, so it pins nothing.",
        "The uv version changes whenever the image or installer does, while the pipeline "
        "claims a pinned one.",
        "Use it in the image tag (`ghcr.io/astral-sh/uv:$UV_VERSION-python3.12-trixie-slim`) "
        "or the installer, or delete it.",
        pt.uvc022,
    ),
    Rule(
        "UVC023",
        "an image uv does not publish",
        Severity.MAJOR,
        "uv stopped publishing its `bookworm`, `alpine3.21` and `python3.8` images with 0.10.0 "
        "(uv #17755): a tag such as `0.10.2-python3.12-bookworm-slim` names an image that was "
        "never built. (Tags of older uv versions still exist.)",
        "The job cannot pull its image: it fails before running anything, in every pipeline.",
        "Use the Debian trixie image of the same uv and Python "
        "(`ghcr.io/astral-sh/uv:<version>-python3.X-trixie-slim`), or `-alpine`.",
        img.uvc023,
    ),
)
