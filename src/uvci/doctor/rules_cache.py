"""Rules about whether uv's cache is cached at all, and under which key (UVC001-UVC004)."""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterator

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.pipeline import Job
from uvci.model.project import version_key

LOCK_PATTERNS = ("uv.lock", "pylock*.toml", "requirements*.txt", "constraints*.txt", "*.lock")
GENERATE = "or adopt `uvci generate` (a locked pipeline with the cache laid out)"


def is_lock_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(base, pattern) for pattern in LOCK_PATTERNS)


def keyed_on_lock(ctx: Context, cache: Cache) -> bool:
    """Keyed on a lock file that exists (a missing key file makes the key constant)."""
    files = cache.key_files
    lock = cache.key_kind == "files" and any(is_lock_file(f) for f in files)
    return lock and not any(_missing(ctx, f) for f in files)


def keyed_on_existing_lock(ctx: Context, cache: Cache) -> bool:
    """Keyed on a lock file that is there to be read (never "lock-keyed" with no lock)."""
    locks = [f for f in cache.key_files if is_lock_file(f)]
    return keyed_on_lock(ctx, cache) and any(_exists(ctx, f) for f in locks)


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


def uvc003(ctx: Context) -> Iterator[Finding]:
    for job in ctx.project_jobs():  # tools only (uvx, uv tool): a key naming the tool is right
        if not ctx.project_downloads(job):
            continue  # installs offline (a wheelhouse its own step refreshes): any key works
        for cache in ctx.uv_caches(job):
            problem = _key_problem(ctx, cache)
            if problem is None:
                continue
            fix = _lock_key_edit(ctx, cache) if ctx.has_lock else ()
            yield Finding(
                "UVC003",
                problem,
                cache.loc,
                (job.name,),
                fix,
                advice="key the cache on uv.lock (`key: {files: [uv.lock]}`)"
                if ctx.has_lock
                else "lock the project (`uv lock`), commit uv.lock and key on it",
            )


def _key_problem(ctx: Context, cache: Cache) -> str | None:
    if cache.key_kind == "default":
        return "no cache key: every branch and job shares the key `default`, whatever it installs"
    if cache.key_kind in ("static", "variable"):
        what = (
            "the branch"
            if "CI_COMMIT_REF" in cache.key or "CI_COMMIT_BRANCH" in cache.key
            else ("nothing that changes with the dependencies")
        )
        return f"cache key `{cache.key_raw}` follows {what}, not the lock file"
    missing = [f for f in cache.key_files if _missing(ctx, f)]
    if missing:
        return f"cache key file `{missing[0]}` does not exist in the project; the key never changes"
    if keyed_on_lock(ctx, cache):
        return None
    if ctx.has_lock:
        return f"cache key files `{cache.key}` leave out uv.lock, which exists"
    return (
        f"cache key files `{cache.key}` state version ranges, not versions: new releases "
        "change what is installed without changing the key"
    )


def _missing(ctx: Context, name: str) -> bool:
    if ctx.project is None or "$" in name or "*" in name:
        return False
    return not (ctx.project_dir / name.lstrip("/")).exists()


def _lock_key_edit(ctx: Context, cache: Cache) -> tuple[Edit, ...]:
    files = CommentedSeq(["uv.lock"])
    files.fa.set_flow_style()
    if cache.key_kind == "files":  # edit in place: keeps the prefix and any comments
        return (edits.set_key(ctx, cache.key_node, "files", files, "key the cache on uv.lock"),)
    key = CommentedMap()
    key["files"] = files
    prefix = None if "CI_COMMIT_" in cache.key_raw else cache.key_raw
    if cache.key_kind != "default" and prefix:
        key["prefix"] = prefix
    return (edits.set_key(ctx, cache.node, "key", key, "key the cache on uv.lock"),)


_UVCI_PREFETCH = re.compile(r"\buvci prefetch\b")


def uvc004(ctx: Context) -> Iterator[Finding]:
    groups: dict[tuple[str, str, str | None], list[tuple[Job, Cache]]] = defaultdict(list)
    for job in ctx.project_jobs():
        for cache in ctx.uv_caches(job):  # the effective key: variables expanded per job
            groups[(cache.key_kind, cache.key, cache.prefix)].append((job, cache))
    for members in groups.values():
        message = _shared_message(ctx, members)
        if message is None:
            continue
        jobs = tuple(job.name for job, _ in members)
        for loc in sorted({cache.loc for _, cache in members}, key=str):
            yield Finding(
                "UVC004",
                message,
                loc,
                jobs,
                _version_prefix(ctx, members),
                advice="add the Python version to the key (`prefix: $PYTHON_VERSION`)",
            )


def _shared_message(ctx: Context, members: list[tuple[Job, Cache]]) -> str | None:
    """Why jobs of several Pythons on one key lose wheels: several write it, or one writes
    what the others read. None when one Python (or no known writer) uses the key."""
    writers = {ctx.python_of(j)[0] for j, c in members if c.policy in ("pull-push", "push")}
    readers = {ctx.python_of(j)[0] for j, _ in members} - {None}
    key = _key_text(members[0][1])
    if None in writers or not writers:
        return None
    if len(writers) >= 2:
        return (
            f"{len(members)} jobs testing Python {_versions(writers | readers)} push one cache "
            f"key `{key}`: each upload replaces the others'"
        )
    if readers - writers and not _fills_every_cell(ctx, members):
        return (
            f"jobs testing Python {_versions(readers - writers)} read the cache key `{key}` "
            f"that only Python {_versions(writers)} jobs write: they miss their own wheels"
        )
    return None


def _fills_every_cell(ctx: Context, members: list[tuple[Job, Cache]]) -> bool:
    """The one writer runs ``uvci prefetch`` for the whole matrix (no ``--cell``): what it
    saves holds every reader's files (uvci's shared wheelhouse)."""
    writer = next(j for j, c in members if c.policy in ("pull-push", "push"))
    return any(
        _UVCI_PREFETCH.search(line.text) and "--cell" not in line.text for line in writer.scripts
    )


def _versions(versions: set[str | None]) -> str:
    return ", ".join(sorted((str(v) for v in versions), key=version_key))


def _key_text(cache: Cache) -> str:
    if cache.key_kind == "files":
        prefix = f", prefix: {cache.prefix}" if cache.prefix else ""
        return f"files: [{cache.key}]{prefix}"
    return cache.key


def _version_prefix(ctx: Context, members: list[tuple[Job, Cache]]) -> tuple[Edit, ...]:
    names = {ctx.python_of(job)[1] for job, _ in members}
    caches = {id(cache.node): cache for _, cache in members}
    name = names.pop() if len(names) == 1 else None
    if name is None or len(caches) != 1:
        return ()
    cache = next(iter(caches.values()))
    if cache.key_kind == "files":
        prefix = f"{cache.prefix_raw}-${name}" if cache.prefix_raw else f"${name}"
        return (edits.set_key(ctx, cache.key_node, "prefix", prefix, "key per Python"),)
    if cache.key_kind in ("static", "variable"):
        value = f"{cache.key_raw}-${name}"
        return (edits.set_key(ctx, cache.node, "key", value, "key per Python"),)
    return ()
