"""Rules for cache patterns seen in real pipelines (UVC016-UVC018): a cached uv.lock,
fallback keys nobody writes, one key for several toolchains."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding, Rule, Severity
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.nodes import as_str_list, site_of
from uvci.gitlab.read.pipeline import Job
from uvci.gitlab.read.variables import expand

_TOOLCHAINS = {
    "node": ("npm", "npx", "yarn", "pnpm", "node", "bun"),
    "python": ("uv", "uvx", "pip", "pip3", "python", "python3", "poetry", "tox", "pytest"),
    "go": ("go",),
    "rust": ("cargo",),
    "java": ("mvn", "gradle", "./gradlew", "./mvnw"),
}
_WRITES = ("pull-push", "push")


def uvc016(ctx: Context) -> Iterator[Finding]:
    for job in ctx.uv_jobs():
        for cache in job.caches:
            for index, path in enumerate(cache.paths):
                if p.normalize(path).rsplit("/", 1)[-1] == "uv.lock":
                    yield Finding(
                        "UVC016",
                        f"`{path}` is a cache path: a restored cache overwrites the checked-out "
                        "uv.lock with whatever an older run saved",
                        cache.loc,
                        (job.name,),
                        _drop_path(ctx, cache, index),
                        advice=f"remove `{path}` from the cache paths (key the cache on it "
                        "instead: `key: {files: [uv.lock]}`)",
                    )


UVC016 = Rule(
    "UVC016",
    "uv.lock is a cache path",
    Severity.MAJOR,
    "`uv.lock` is a tracked file. GitLab restores a cache after the checkout, so a cache "
    "that holds uv.lock overwrites the commit's lock with the one an earlier run saved.",
    "Jobs install from an old lock (or fail `--locked` against it) whenever the cache is "
    "older than the commit.",
    "Remove uv.lock from `cache: paths:` (what `--fix` does when other paths remain) and "
    "key the cache on it instead: `key: {files: [uv.lock]}`.",
    uvc016,
)


def _drop_path(ctx: Context, cache: Cache, index: int) -> tuple[Edit, ...]:
    raw = cache.node.get("paths")
    if not isinstance(raw, list) or len(raw) < 2:
        return ()
    return (edits.delete_item(ctx, site_of(raw, index), "drop uv.lock from the cache"),)


def uvc017(ctx: Context) -> Iterator[Finding]:
    written = [c for j in ctx.pipeline.jobs for c in j.caches if c.policy in _WRITES]
    patterns = [_key_pattern(cache) for cache in written]
    for job in ctx.uv_jobs():
        for cache in job.caches:
            for fallback in as_str_list(cache.node.get("fallback_keys")):
                key = expand(fallback, job.variables)
                if "$" in key or any(pattern.fullmatch(key) for pattern in patterns):
                    continue
                yield Finding(
                    "UVC017",
                    f"fallback key `{fallback}` matches no cache key this pipeline writes, so "
                    "a first run of this key never starts warm",
                    cache.loc,
                    (job.name,),
                    advice="use a key some job writes (e.g. the default branch's key), or "
                    "drop the fallback",
                )


UVC017 = Rule(
    "UVC017",
    "a fallback key no job writes",
    Severity.MINOR,
    "`fallback_keys` are tried when the job's own key has no cache yet. A fallback that "
    "matches no key any job of the pipeline writes (keys with variables count as any "
    "value) can never be found.",
    "Every new key (a new branch, a lock change) starts cold although a fallback was meant "
    "to warm it.",
    "Use a key a job writes, typically the default branch's, or drop the fallback.",
    uvc017,
)


def _key_pattern(cache: Cache) -> re.Pattern[str]:
    """The key a cache is written under, as a pattern: a variable can stand for any text
    (``$CI_COMMIT_REF_SLUG`` is ``main`` on the default branch); a ``files:`` key is
    ``<prefix>-<hash>``."""
    text = f"{cache.prefix}-" if cache.key_kind == "files" and cache.prefix else cache.key
    parts = re.split(r"\$\{?\w+\}?", text)
    pattern = ".*".join(re.escape(part) for part in parts)
    if cache.key_kind == "files":
        pattern = (pattern if cache.prefix else "") + "[0-9a-f]+"
    return re.compile(pattern)


def uvc018(ctx: Context) -> Iterator[Finding]:
    writers: dict[str, list[tuple[Job, Cache, str]]] = defaultdict(list)
    for job in ctx.pipeline.jobs:
        toolchain = _toolchain(ctx, job)
        for cache in job.caches:
            if cache.policy in _WRITES and toolchain and _fills(toolchain, cache):
                writers[f"{_key_pattern(cache).pattern}|{cache.key}"].append(
                    (job, cache, toolchain)
                )
    for members in writers.values():
        kinds = sorted({toolchain for _, _, toolchain in members})
        if len(kinds) < 2 or not any(ctx.runs_uv(job) for job, _, _ in members):
            continue
        jobs = tuple(dict.fromkeys(job.name for job, _, _ in members))
        for loc in sorted({cache.loc for _, cache, _ in members}, key=str):
            yield Finding(
                "UVC018",
                f"one cache key is written by {' and '.join(kinds)} jobs: each upload replaces "
                "the archive with its own files, so the others restore the wrong ones",
                loc,
                jobs,
                advice="give each toolchain its own key (e.g. `key: {files: [uv.lock], prefix: "
                "python}` and one on package-lock.json for Node)",
            )


UVC018 = Rule(
    "UVC018",
    "one cache key for several toolchains",
    Severity.MAJOR,
    "Jobs of different toolchains (say Node and Python) push the same cache key. GitLab "
    "keeps one archive per key: each upload holds only the files its job had, so each "
    "toolchain restores the other's files and misses its own.",
    "Both toolchains start cold on most runs, and the archive churns on every pipeline.",
    "Give each toolchain its own key, e.g. `key: {files: [uv.lock], prefix: python}` and "
    "one keyed on package-lock.json.",
    uvc018,
)


_OWN_PATHS = {  # cache paths only one toolchain fills: another's job uploads none of them
    "node": re.compile(r"node_modules|(^|/)\.?(npm|yarn|pnpm)|\.pnpm-store|bun"),
    "python": re.compile(r"(^|[/._-])(uv|pip|pypoetry|poetry|venv|tox|nox)([/._-]|$)"),
    "go": re.compile(r"(^|/)(go|\.go)(/|$)|gomod|go-build"),
    "rust": re.compile(r"cargo|(^|/)target(/|$)"),
    "java": re.compile(r"\.m2|gradle"),
}


def _fills(toolchain: str, cache: Cache) -> bool:
    """Whether a ``toolchain`` job uploads something of ``cache``: a path of its own, or one
    no toolchain owns (GitLab uploads nothing when no cached path exists: "No files")."""
    for path in cache.paths:
        owners = {kind for kind, pattern in _OWN_PATHS.items() if pattern.search(path.lower())}
        if not owners or toolchain in owners:
            return True
    return False


def _toolchain(ctx: Context, job: Job) -> str | None:
    """The one toolchain a job's scripts (or image) use; None when it uses none or several."""
    names = {cmd.argv[0] for cmd in ctx.commands(job)}
    image = (job.image or "").rsplit("/", 1)[-1]
    found = {kind for kind, words in _TOOLCHAINS.items() if names & set(words)}
    found |= {kind for kind in ("node", "python") if image.startswith(kind)}
    return found.pop() if len(found) == 1 else None


RULES: tuple[Rule, ...] = (
    UVC016,
    UVC017,
    UVC018,
)
