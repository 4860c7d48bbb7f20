"""Rules about the key a cache of uv's is saved under (UVC003, UVC004)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from uvci.doctor import edits
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding, Rule, Severity
from uvci.doctor.rules_cache import keyed_on_lock, missing_key_file
from uvci.doctor.shell import positional_args
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.pipeline import Job
from uvci.gitlab.read.variables import expand
from uvci.model.project import version_key

LOCK_PATTERNS = ("uv.lock", "pylock*.toml", "requirements*.txt", "constraints*.txt", "*.lock")
GENERATE = "or adopt `uvci generate` (a locked pipeline with the cache laid out)"


def uvc003(ctx: Context) -> Iterator[Finding]:
    project = ctx.project_jobs()  # tools only (uvx, uv tool): a key naming the tool is right
    ids = {id(job) for job in project}
    named = [j for j in ctx.installing_jobs() if id(j) not in ids and _installs_unpinned(ctx, j)]
    for job in [*project, *named]:
        if not ctx.project_downloads(job):
            continue  # installs offline (a wheelhouse its own step refreshes): any key works
        for cache in ctx.uv_caches(job):
            problem = _key_problem(ctx, cache)
            if problem is None or (id(job) not in ids and cache.key_kind != "default"):
                continue  # unpinned names: only the key everything shares is surely wrong
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


def _installs_unpinned(ctx: Context, job: Job) -> bool:
    """``uv pip install`` of package names without ``==`` (``pytest ruff``): nothing pins
    what the cache holds."""
    for sub, cmd in ctx.uv_commands(job):
        if sub != "pip install" or cmd.has("-c", "--constraint", "--constraints"):
            continue
        words = [expand(arg, ctx.env(job)) for arg in positional_args(cmd, 3)]
        if any(_NAME.match(word) and "==" not in word for word in words):
            return True
    return False


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?([<>~!]=?[^/]*)?$")


UVC003 = Rule(
    "UVC003",
    "the cache key ignores the lock file",
    Severity.MAJOR,
    "A cache key should change exactly when what is installed changes. A static key, the "
    "default key, a branch key, or `pyproject.toml` (ranges, not versions) keep the key "
    "when the resolution changes; a key file that does not exist makes the key constant. "
    "(Jobs that only run tools with uvx may key on the pinned tool version instead.)",
    "Stale caches that grow with every dependency bump (each upload carries old and new "
    "wheels), or, with a branch key, a cold cache on every new branch.",
    "Key on the lock: `key: {files: [uv.lock]}` (add `prefix:` for per-job or per-Python "
    "caches). `--fix` rewrites the key when uv.lock exists, keeping an existing prefix.",
    uvc003,
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
    missing = [f for f in cache.key_files if missing_key_file(ctx, f)]
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


_UVCI_PREFETCH = re.compile(r"\buvci[\"']?\s+prefetch\b")  # uvci, or "$dir/bin/uvci"


def uvc004(ctx: Context) -> Iterator[Finding]:
    groups: dict[tuple[str, str, str | None], list[tuple[Job, Cache]]] = defaultdict(list)
    for job in ctx.testing_jobs():
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


UVC004 = Rule(
    "UVC004",
    "a Python matrix shares one cache key",
    Severity.MAJOR,
    "Jobs testing different Python versions push the same cache key. Each job restores "
    "the same archive, adds its own version's wheels and uploads; the last upload wins.",
    "Every version but the last writer misses most of its wheels on the next run and "
    "downloads them again; parallel uploads race.",
    "Add the Python version to the key, e.g. `prefix: $PYTHON_VERSION` (what `--fix` does "
    "when one variable carries the version), or fetch once for all versions (`uvci generate`).",
    uvc004,
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


RULES: tuple[Rule, ...] = (
    UVC003,
    UVC004,
)
