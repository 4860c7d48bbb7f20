"""Rules for real-world patterns (UVC016-UVC022): a cached uv.lock, fallback keys nobody
writes, one key for several toolchains, unpinned tools, `uv pip install` into a synced env,
retried syncs and a UV_VERSION nobody reads."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.model import Edit, Finding
from uvci.doctor.shell import Command, positional_args
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.nodes import as_str_list, site_of
from uvci.gitlab.read.pipeline import Job
from uvci.gitlab.read.variables import expand

_PINNED_TOOL = re.compile(r"(==|@)[\w.*+!-]+$|\.whl$|^[./~]|://")
_RETRIED = re.compile(r"\buv\s[^|&;\n]*\b(sync|lock)\b[^|&;\n]*\|\|.*\buv\s[^\n]*\b(sync|lock)\b")
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
            if cache.policy in _WRITES and toolchain:
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


def _toolchain(ctx: Context, job: Job) -> str | None:
    """The one toolchain a job's scripts (or image) use; None when it uses none or several."""
    names = {cmd.argv[0] for cmd in ctx.commands(job)}
    image = (job.image or "").rsplit("/", 1)[-1]
    found = {kind for kind, words in _TOOLCHAINS.items() if names & set(words)}
    found |= {kind for kind in ("node", "python") if image.startswith(kind)}
    return found.pop() if len(found) == 1 else None


def uvc019(ctx: Context) -> Iterator[Finding]:
    for job in ctx.uv_jobs():
        for sub, cmd in ctx.uv_commands(job):
            tool = _unpinned_tool(sub, cmd, ctx.env(job))
            if tool:
                yield Finding(
                    "UVC019",
                    f"`{' '.join(cmd.argv)}` runs whatever {tool} is newest on the index: a "
                    "new release can break the job without a commit",
                    cmd.line.loc,
                    (job.name,),
                    advice=f"pin it: `uvx {tool}@<version>` "
                    f"(or `uv tool install {tool}==<version>`)",
                )


def _unpinned_tool(sub: str, cmd: Command, env: Mapping[str, str]) -> str | None:
    if sub not in ("uvx", "tool run", "tool install"):
        return None
    source = cmd.option("--from")
    if source is None:
        words = positional_args(cmd, 1 if sub == "uvx" else 3)
        source = words[0] if words else ""
    spec = expand(source, env)
    if not spec or "$" in spec or _PINNED_TOOL.search(spec) or "==" in spec:
        return None  # pinned, a path, or set outside the YAML
    return _name(spec)


def _name(spec: str) -> str:
    return re.split(r"[\[<>=!~@ ]", spec, maxsplit=1)[0]


def uvc020(ctx: Context) -> Iterator[Finding]:
    for job in ctx.project_jobs():
        pending: list[Command] = []
        for sub, cmd in ctx.uv_commands(job):
            if sub == "pip install" and not _elsewhere(ctx, job, cmd):
                pending.append(cmd)
            elif sub == "sync" and pending and not cmd.has("--inexact"):
                yield _uvc020(job, pending[0], cmd)
                pending = []


def _elsewhere(ctx: Context, job: Job, cmd: Command) -> bool:
    """Whether ``uv pip install`` targets another environment than the project's .venv."""
    options = ("--system", "--target", "--prefix", "--python", "-p")
    return cmd.has(*options) or ctx.flag(job, "UV_SYSTEM_PYTHON", cmd)


def _uvc020(job: Job, install: Command, sync: Command) -> Finding:
    return Finding(
        "UVC020",
        f"`{' '.join(install.argv)}` installs into the project's environment, and the later "
        f"`{' '.join(sync.argv)}` removes what the lock does not list: the install is undone",
        install.line.loc,
        (job.name,),
        advice="add the package to pyproject.toml (a dependency group) and `uv sync --group`, "
        "or run it with `uv run --with <package>`",
    )


def uvc021(ctx: Context) -> Iterator[Finding]:
    for job in ctx.uv_jobs():
        for line in job.scripts:
            if _RETRIED.search(line.text):
                yield Finding(
                    "UVC021",
                    "a failed `uv sync`/`uv lock` is retried (after deleting the environment): "
                    "a broken or stale lock then passes as a flaky cache",
                    line.loc,
                    (job.name,),
                    advice="let the job fail: use `uv sync --locked` alone, and fix the lock "
                    "with `uv lock` in a commit",
                )


def uvc022(ctx: Context) -> Iterator[Finding]:
    texts = [doc.text for doc in ctx.pipeline.documents]
    used = any(re.search(r"\$\{?UV_VERSION\b", text) for text in texts)
    value = ctx.pipeline.global_variables.get("UV_VERSION")
    if value is None or used:
        return
    variables = ctx.pipeline.config.get("variables")
    yield Finding(
        "UVC022",
        f"UV_VERSION ({value}) is declared but no image, installer or script uses it: the "
        "jobs run whatever uv their image or installer brings",
        ctx.pipeline.locate(variables, "UV_VERSION"),
        (),
        advice="use it, e.g. `image: ghcr.io/astral-sh/uv:$UV_VERSION-python3.12-trixie-slim`, "
        "or delete it",
    )
