"""Rules about what is uploaded, refreshed and archived (UVC005, UVC006, UVC012, UVC013)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding, Rule, Severity
from uvci.doctor.rules_cache import GENERATE, keyed_on_existing_lock, keyed_on_lock
from uvci.doctor.shell import Command
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.nodes import site_of
from uvci.gitlab.read.pipeline import Job
from uvci.util.units import MB, megabytes

LARGE_CACHE_BYTES = 200 * MB
HEAVY_PACKAGES = frozenset({"torch", "tensorflow", "jax", "jaxlib", "nvidia-cudnn-cu12"})
_RM = re.compile(r"^(rm|rmdir)$")


def deletions(ctx: Context, job: Job) -> list[tuple[Command, str]]:
    """``(command, target)`` for every ``rm -rf`` of uv's cache dir or a cached path."""
    cached = {raw for cache in job.caches for raw in cache.raw_paths}
    cached |= {path for cache in job.caches for path in cache.paths}
    found: list[tuple[Command, str]] = []
    for cmd in ctx.commands(job):
        if _RM.match(cmd.argv[0]) or cmd.argv[:3] == ("uv", "cache", "clean"):
            targets = [a for a in cmd.argv[1:] if not a.startswith("-")] or ["$UV_CACHE_DIR"]
            hits = [t for t in targets if "UV_CACHE_DIR" in t or t in cached]
            found.extend((cmd, target) for target in hits[:1])
    return found


def uvc005(ctx: Context) -> Iterator[Finding]:
    pushing = [
        (job, cache)
        for job in ctx.installing_jobs()
        if not deletions(ctx, job)
        for cache in ctx.package_caches(job)
        if cache.policy == "pull-push" and keyed_on_existing_lock(ctx, cache)
    ]
    if len(pushing) < 2:
        return
    jobs = tuple(job.name for job, _ in pushing)
    for loc in sorted({cache.loc for _, cache in pushing}, key=str):
        yield Finding(
            "UVC005",
            f"{len(jobs)} jobs re-upload this lock-keyed cache at the end of every run, "
            "although a run that restored it cannot change it",
            loc,
            jobs,
            advice="fill the cache in one job (`policy: pull-push`) and use `policy: pull` "
            "in the others, " + GENERATE,
        )


UVC005 = Rule(
    "UVC005",
    "an unchanged cache is re-uploaded",
    Severity.MINOR,
    "With `policy: pull-push` (GitLab's default) every job archives and uploads the cache "
    "after its script. When the key is derived from uv.lock and the job installs from the "
    "lock, a job that restored the cache cannot change it: every warm matrix cell "
    "re-uploads the same bytes.",
    "One archive-and-upload per job per pipeline, often tens of seconds for a large uv "
    "cache, for no change.",
    "Fill the cache in one job with `pull-push` and give the others `policy: pull`; "
    "`uvci generate` lays the pipeline out this way.",
    uvc005,
)


def uvc006(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        stale = [c for c in ctx.uv_caches(job) if not keyed_on_lock(ctx, c)]
        if not stale:
            continue
        for cmd, target in deletions(ctx, job):
            when = (
                "whenever it was restored" if "if" in cmd.line.text else "at the end of every run"
            )
            yield Finding(
                "UVC006",
                f"`{' '.join(cmd.argv)}` deletes the cached `{target}` {when}, so the cache is "
                f"never re-uploaded, and its key `{_key_text(stale[0])}` does not change "
                "when dependencies do: the cache is never refreshed",
                cmd.line.loc,
                (job.name,),
                advice="key the cache on uv.lock and use `policy: pull` instead of deleting it",
            )


UVC006 = Rule(
    "UVC006",
    "the cache is never refreshed",
    Severity.MAJOR,
    "The job deletes the cached directory (typically `rm -rf $UV_CACHE_DIR` when the "
    "cache was restored) so GitLab skips the upload, while the key does not change with "
    "the resolved dependencies. Once a cache exists under that key it is never updated.",
    "After the first run, every new or upgraded dependency is downloaded in every job, "
    "for as long as the key stays the same.",
    "Key the cache on uv.lock, so a new resolution gets a new key, and use `policy: pull` "
    "instead of deleting the directory.",
    uvc006,
)


def _key_text(cache: Cache) -> str:
    if cache.key_kind == "files":
        prefix = f", prefix: {cache.prefix_raw}" if cache.prefix_raw else ""
        return f"files: [{cache.key}]{prefix}"
    return cache.key_raw or "default"


def uvc012(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        if not ctx.uv_caches(job):
            continue
        venv = ctx.env(job).get("UV_PROJECT_ENVIRONMENT")
        for cache in job.caches:
            for index, path in enumerate(cache.paths):
                if p.is_venv(path) or (venv and p.covers(path, venv)):
                    yield Finding(
                        "UVC012",
                        f"`{path}` is cached next to uv's cache: the archive holds every "
                        "package twice, and a restored venv breaks when the image changes",
                        cache.loc,
                        (job.name,),
                        _drop_path(ctx, cache, index),
                        advice=f"remove `{path}` from the cache paths; uv rebuilds it in seconds",
                    )


UVC012 = Rule(
    "UVC012",
    "`.venv` is cached next to uv's cache",
    Severity.MAJOR,
    "The virtual environment holds copies (or links) of what uv's cache already holds, and "
    "its interpreter links point into the image it was built in.",
    "The archive is about twice the size; a restored venv breaks when the image changes.",
    "Cache uv's cache only; uv recreates `.venv` from it in seconds. `--fix` removes the "
    "venv path.",
    uvc012,
)


def _drop_path(ctx: Context, cache: Cache, index: int) -> tuple[Edit, ...]:
    raw = cache.node.get("paths")
    if not isinstance(raw, list) or len(raw) < 2:
        return ()
    return (edits.delete_item(ctx, site_of(raw, index), "drop the venv from the cache"),)


def uvc013(ctx: Context) -> Iterator[Finding]:
    if _fast_archiving(ctx):
        return
    reason = _large(ctx)
    if reason is None:
        return
    for job in ctx.installing_jobs():
        for cache in ctx.uv_caches(job):
            yield Finding(
                "UVC013",
                f"{reason}; the cache is archived with the default zip compressor",
                cache.loc,
                (job.name,),
                (
                    edits.global_var(ctx, "FF_USE_FASTZIP", "true"),
                    edits.global_var(ctx, "CACHE_COMPRESSION_LEVEL", "fastest"),
                ),
            )


UVC013 = Rule(
    "UVC013",
    "a large cache is archived with the default zip",
    Severity.MINOR,
    "GitLab Runner archives caches with a slow zip implementation unless `FF_USE_FASTZIP` "
    "is on or `CACHE_COMPRESSION_FORMAT` chooses another format. uv caches of "
    "PyTorch-sized dependencies run to gigabytes.",
    "Minutes of compressing and extracting per job for large caches.",
    'Set `FF_USE_FASTZIP: "true"` and `CACHE_COMPRESSION_LEVEL: fastest` (what `--fix` '
    "adds to the global variables).",
    uvc013,
)


def _fast_archiving(ctx: Context) -> bool:
    names = ("FF_USE_FASTZIP", "CACHE_COMPRESSION_FORMAT")
    for variables in [ctx.pipeline.global_variables, *(j.variables for j in ctx.pipeline.jobs)]:
        if variables.get("FF_USE_FASTZIP", "").lower() in ("true", "1"):
            return True
        if variables.get(names[1]):
            return True
    return False


def _large(ctx: Context) -> str | None:
    if ctx.lock is not None:
        total = sum(max((w.size or 0 for w in pkg.wheels), default=0) for pkg in ctx.lock.packages)
        heavy = sorted(HEAVY_PACKAGES & {pkg.name for pkg in ctx.lock.packages})
        if total >= LARGE_CACHE_BYTES or heavy:
            what = f" (with {', '.join(heavy)})" if heavy else ""
            return f"uv.lock's wheels add up to {megabytes(total, 0)}{what}"
    for job in ctx.installing_jobs():
        for cmd in ctx.installs(job):
            if cmd.has("--torch-backend") or HEAVY_PACKAGES & set(cmd.argv):
                return f"`{' '.join(cmd.argv)}` installs PyTorch-sized wheels"
    return None


def uvc015(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        if not ctx.caches_uv(job):
            continue
        for cmd in ctx.installs(job):
            by_env = ctx.flag(job, "UV_NO_CACHE", cmd)
            if by_env or cmd.has("--no-cache", "-n"):
                how = "UV_NO_CACHE" if by_env else "--no-cache"
                yield Finding(
                    "UVC015",
                    f"`{' '.join(cmd.argv)}` runs with {how}: uv ignores the cache this job "
                    "restores and uploads, and downloads everything",
                    cmd.line.loc,
                    (job.name,),
                    advice="drop --no-cache / UV_NO_CACHE (a Docker-build habit; in CI the "
                    "cache is the point)",
                )


UVC015 = Rule(
    "UVC015",
    "the job caches uv's cache but tells uv not to use it",
    Severity.MAJOR,
    "`--no-cache` (or `UV_NO_CACHE`) makes uv work in a temporary cache and ignore "
    "`UV_CACHE_DIR`. Common in Dockerfiles, where it keeps layers small; in a CI job that "
    "restores and saves uv's cache it defeats the cache.",
    "Every run downloads everything, plus the time to restore and save a cache nobody reads.",
    "Drop `--no-cache` / `UV_NO_CACHE` from the job.",
    uvc015,
)


RULES: tuple[Rule, ...] = (
    UVC005,
    UVC006,
    UVC012,
    UVC013,
    UVC015,
)
