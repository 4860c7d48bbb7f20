"""Rules about whether uv's cache is cached at all, and where (UVC001, UVC002)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding, Rule, Severity
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.pipeline import Job

LOCK_PATTERNS = ("uv.lock", "pylock*.toml", "requirements*.txt", "constraints*.txt", "*.lock")
GENERATE = "or adopt `uvci generate` (a locked pipeline with the cache laid out)"


def is_lock_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(base, pattern) for pattern in LOCK_PATTERNS)


def keyed_on_lock(ctx: Context, cache: Cache) -> bool:
    """Keyed on a lock file that exists (a missing key file makes the key constant)."""
    files = cache.key_files
    lock = cache.key_kind == "files" and any(is_lock_file(f) for f in files)
    return lock and not any(missing_key_file(ctx, f) for f in files)


def keyed_on_existing_lock(ctx: Context, cache: Cache) -> bool:
    """Keyed on a lock file that is there to be read (never "lock-keyed" with no lock)."""
    locks = [f for f in cache.key_files if is_lock_file(f)]
    return keyed_on_lock(ctx, cache) and any(_exists(ctx, f) for f in locks)


def missing_key_file(ctx: Context, name: str) -> bool:
    """Whether key file ``name`` is surely absent (a pattern or a variable: not). Only in a
    checkout: a project dir with pyproject.toml or ``.git`` (not a pipeline file alone)."""
    if not _checkout(ctx) or "$" in name or "*" in name:
        return False
    return not (ctx.project_dir / name.lstrip("/")).exists()


def _checkout(ctx: Context) -> bool:
    return ctx.project is not None or (ctx.project_dir / ".git").exists()


def _exists(ctx: Context, name: str) -> bool:
    """Whether key file ``name`` exists (a pattern or a variable: assumed to)."""
    return "$" in name or "*" in name or (ctx.project_dir / name.lstrip("/")).exists()


def uvc001(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        fetching = ctx.downloads(job)
        if not fetching or any(cache.paths for cache in job.caches):
            continue
        sub = " ".join(fetching[0].argv)
        yield Finding(
            "UVC001",
            f"runs `{sub}` but caches nothing: every run downloads every package again",
            job.loc,
            (job.name,),
            advice="cache $UV_CACHE_DIR (inside $CI_PROJECT_DIR) keyed on uv.lock, " + GENERATE,
        )


UVC001 = Rule(
    "UVC001",
    "no cache on a job that runs uv",
    Severity.MAJOR,
    "The job resolves, downloads or installs packages with uv but declares no `cache:` "
    "(neither its own nor one from `default:`). uv's cache lives in the container and is "
    "thrown away with it, so every run starts cold. (Jobs that install only with "
    "`--offline`/`--no-index`, e.g. from a wheelhouse artifact, download nothing.)",
    "Every run downloads every wheel again: for a matrix of N Python versions, N full "
    "downloads per pipeline, usually the larger part of the job's time.",
    "Set `UV_CACHE_DIR: $CI_PROJECT_DIR/.uv-cache`, cache that path keyed on `uv.lock`, "
    "or adopt `uvci generate`, which writes the whole cache layout.",
    uvc001,
)


def uvc002(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        caches = [cache for cache in job.caches if cache.paths]
        if not caches or not ctx.downloads(job):
            continue
        for cache in caches:
            for path in cache.paths:
                if p.in_project(path) is False:
                    yield _uvc002(
                        job,
                        cache,
                        f"cache path `{path}` is outside $CI_PROJECT_DIR; "
                        "GitLab only archives paths inside the project directory",
                    )
        message = _uv_dir_not_cached(ctx, job, caches)
        if message:
            yield _uvc002(job, caches[0], message, _set_cache_dir(ctx, caches))


UVC002 = Rule(
    "UVC002",
    "the cached path does not hold uv's cache",
    Severity.MAJOR,
    "GitLab archives only paths inside `$CI_PROJECT_DIR`. uv writes its cache to "
    "`UV_CACHE_DIR` (default `~/.cache/uv`, outside the project). A cache of another path, "
    "of a path outside the project, or of pip's or poetry's cache directory, saves nothing "
    "uv reads.",
    "The cache is uploaded and downloaded on every run (time and storage) and uv still "
    "downloads everything: the cost of caching without its benefit.",
    "Set `UV_CACHE_DIR` to a directory inside the project (e.g. `$CI_PROJECT_DIR/.uv-cache`) "
    "and list that same path under `cache: paths:`. `--fix` sets UV_CACHE_DIR when the "
    "cached path is clearly meant for uv.",
    uvc002,
)


def _uv_dir_not_cached(ctx: Context, job: Job, caches: list[Cache]) -> str | None:
    cache_dir = ctx.uv_cache_dir(job)
    if not cache_dir.known or ctx.caches_uv(job):
        return None
    cached = ", ".join(f"`{path}`" for cache in caches for path in cache.paths)
    tools = {p.other_tool_cache(path) for cache in caches for path in cache.paths} - {None}
    where = (
        "~/.cache/uv (UV_CACHE_DIR is not set)"
        if cache_dir.value is None
        else (f"`{cache_dir.value}` (UV_CACHE_DIR)")
    )
    also = (
        f"; {', '.join(sorted(str(t) for t in tools))} cache paths do not help uv" if tools else ""
    )
    return f"uv writes its cache to {where}, but the job caches {cached}{also}"


def _set_cache_dir(ctx: Context, caches: list[Cache]) -> tuple[Edit, ...]:
    candidates = [
        path
        for cache in caches
        for path in cache.paths
        if p.in_project(path) and "uv" in path.lower() and not p.is_venv(path)
    ]
    if len(candidates) != 1 or "UV_CACHE_DIR" in ctx.pipeline.global_variables:
        return ()
    value = "$CI_PROJECT_DIR/" + p.normalize(candidates[0])
    return (edits.global_var(ctx, "UV_CACHE_DIR", value),)


def _uvc002(job: Job, cache: Cache, message: str, fix: tuple[Edit, ...] = ()) -> Finding:
    return Finding(
        "UVC002",
        message,
        cache.loc,
        (job.name,),
        fix,
        advice="set UV_CACHE_DIR to a directory inside $CI_PROJECT_DIR and cache that path",
    )


RULES: tuple[Rule, ...] = (
    UVC001,
    UVC002,
)
