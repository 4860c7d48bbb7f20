"""Rules about how uv installs and how uv itself gets installed (UVC007-UVC009)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from uvci.doctor import edits
from uvci.doctor.context import INSTALLING, Context
from uvci.doctor.images import is_uv_image
from uvci.doctor.model import Edit, Finding, Rule, Severity
from uvci.doctor.rules_cache import GENERATE
from uvci.doctor.rules_lock import is_stale
from uvci.doctor.shell import Command, commands, positional_args
from uvci.gitlab.read.pipeline import Job

_LOCKED = ("--locked", "--frozen")
_UV_CALL = re.compile(r"(?<![\w./-])(uv(?:\s+--?[\w-]+(?:=\S+)?)*\s+)(sync|run)(?=\s|$)")
_PINNED_LINE = re.compile(r"^\s*[A-Za-z0-9._\[\],-]+\s*===?\s*[^\s;]+")
_UV_REQUIREMENT = re.compile(r"^uv(\[.*\])?([<>=!~].*)?$")
_SEGMENT_END = re.compile(r"\n|&&|\|\||;|\|")
_INSTALLER_URL = re.compile(r"astral\.sh/uv|github\.com/astral-sh/uv/releases")


def uvc007(ctx: Context) -> Iterator[Finding]:
    yield from _unlocked_project_commands(ctx)
    yield from _unpinned_pip_installs(ctx)


UVC007 = Rule(
    "UVC007",
    "installs are not locked",
    Severity.MAJOR,
    "`uv sync`/`uv run` without `--locked` or `--frozen` re-resolve when uv.lock is out of "
    "date and rewrite it instead of failing. `uv pip install` of unpinned requirements "
    "(a wheel, `.`, package names) in several jobs resolves separately in each job.",
    "Jobs can test versions nobody locked, and differ from each other; each resolution "
    "also costs index requests in every job.",
    "Use `uv sync --locked` / `uv run --locked` (`--fix` adds the flag), or set "
    "`UV_LOCKED: 1`. For `uv pip`, lock once and install the lock (`uv pip sync`).",
    uvc007,
)


def _locked_by_env(ctx: Context, job: Job, cmd: Command) -> bool:
    return any(ctx.flag(job, name, cmd) for name in ("UV_LOCKED", "UV_FROZEN"))


def _unlocked_project_commands(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        checked = False  # a `--locked` sync/run before: the lock is known to be up to date
        for sub, cmd in ctx.uv_commands(job):
            if sub not in ("sync", "run"):
                continue
            if cmd.has("--locked") or ctx.flag(job, "UV_LOCKED", cmd):
                checked = True
            if cmd.has(*_LOCKED) or _locked_by_env(ctx, job, cmd) or not ctx.has_lock_for(job):
                continue
            if sub == "run" and (checked or _runs_without_sync(ctx, job, cmd)):
                continue
            fixed = add_locked(cmd.line.text)
            stale = is_stale(ctx.lock_dir_for(job))  # --locked would fail: UVC024 first
            fix = () if stale else _locked_fix(ctx, job, cmd, fixed)
            yield Finding(
                "UVC007",
                f"`uv {sub}` without --locked: uv.lock exists, but uv re-resolves and silently "
                "updates it when it is out of date instead of failing",
                cmd.line.loc,
                (job.name,),
                fix if fixed != cmd.line.text else (),
                advice=f"after `uv lock` (UVC024), use `uv {sub} --locked`"
                if stale
                else f"use `uv {sub} --locked` (or set UV_LOCKED: 1)",
            )


def add_locked(text: str) -> str:
    """``uv sync``/``uv run`` -> ``uv sync --locked``/``uv run --locked`` where missing."""

    def one(match: re.Match[str]) -> str:
        rest = _SEGMENT_END.split(text[match.end() :], 1)[0]
        if any(flag in rest.split() for flag in (*_LOCKED, "--no-sync", "--no-project")):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)} --locked"

    return _UV_CALL.sub(one, text)


def _runs_without_sync(ctx: Context, job: Job, cmd: Command) -> bool:
    return cmd.has("--no-sync", "--no-project", "--script") or ctx.flag(job, "UV_NO_SYNC", cmd)


def _locked_fix(ctx: Context, job: Job, cmd: Command, fixed: str) -> tuple[Edit, ...]:
    container, key = cmd.line.site
    if str(container[key]) != cmd.line.text or "$[[" in cmd.line.text:
        return ()  # the line comes from an input or a reference: fix it there
    fix = edits.set_item(
        ctx, cmd.line.site, _same_style(cmd, fixed), "add --locked", ctx.lock_dir_for(job)
    )
    return (fix,)


def _same_style(cmd: Command, text: str) -> object:
    container, key = cmd.line.site
    return edits.like(container[key], text)


def _unpinned_pip_installs(ctx: Context) -> Iterator[Finding]:
    hits = [
        (job, cmd)
        for job in ctx.project_jobs()
        for sub, cmd in ctx.uv_commands(job)
        if sub == "pip install" and _unpinned(ctx, cmd)
    ]
    if len({job.name for job, _ in hits}) < 2:
        return
    jobs = tuple(job.name for job, _ in hits)
    for loc, cmd in sorted({cmd.line.loc: cmd for _, cmd in hits}.items(), key=lambda i: str(i[0])):
        yield Finding(
            "UVC007",
            f"`{' '.join(cmd.argv)}` resolves unpinned requirements separately in each of "
            f"{len(jobs)} jobs: cells can test different versions, and each resolves on its own",
            loc,
            jobs,
            advice="lock once (`uv lock`, or `uv pip compile --universal`) and install the "
            "lock (`uv sync --locked` / `uv pip sync`), " + GENERATE,
        )


def _unpinned(ctx: Context, cmd: Command) -> bool:
    if cmd.has("-c", "--constraint", "--constraints", "--override", "--no-deps"):
        return False  # constrained, or nothing is resolved
    files = _requirement_files(cmd)
    for name in files:
        pinned = _pinned_file(ctx.project_dir / name)
        if pinned is None:
            return False  # cannot tell
        if not pinned:
            return True
    return bool(positional_args(cmd, 3)) or not files


def _requirement_files(cmd: Command) -> list[str]:
    argv = cmd.argv
    out = [
        argv[i + 1]
        for i, a in enumerate(argv[:-1])
        if a in ("-r", "--requirement", "--requirements")
    ]
    return out + [a.split("=", 1)[1] for a in argv if a.startswith(("--requirement=", "-r="))]


def _pinned_file(path: Path) -> bool | None:
    if "$" in str(path) or not path.is_file():
        return None
    if path.suffix == ".toml" and path.name.startswith("pylock"):
        return True
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text(errors="replace").splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith(("-", "\\"))]
    return all(_PINNED_LINE.match(ln) for ln in reqs)


def uvc008(ctx: Context) -> Iterator[Finding]:
    for job in ctx.uv_jobs():
        for sub, cmd in ctx.uv_commands(job):
            if sub == "cache prune" and cmd.has("--ci") and job.caches:
                why = _pruned_wheels(ctx, job)
                if why is None:
                    continue  # something builds from source: prune --ci keeps exactly those
                fix: tuple[Edit, ...] = ()
                if cmd.line.text.strip() == " ".join(cmd.argv):
                    fix = (edits.delete_item(ctx, cmd.line.site, "drop uv cache prune --ci"),)
                yield Finding(
                    "UVC008",
                    f"`uv cache prune --ci` empties the cache before upload: {why}",
                    cmd.line.loc,
                    (job.name,),
                    fix,
                    advice="drop `uv cache prune --ci` (keep it when builds from source "
                    "dominate or the index is faster than the cache)",
                )


_TOOLS = frozenset({"uvx", "tool run", "tool install"})


def _pruned_wheels(ctx: Context, job: Job) -> str | None:
    """Why ``--ci`` removes what the job's cache is for (None: it keeps built wheels)."""
    subs = {sub for sub, _ in ctx.uv_commands(job) if sub in INSTALLING}
    if not subs:
        return None  # installs nothing we can see (uv's docs' template: "your uv commands")
    if subs <= _TOOLS:
        return "the job only runs tools (uvx), and --ci removes their downloaded wheels"
    if ctx.lock is None:
        return (
            "--ci removes every wheel downloaded from the index, and there is no uv.lock "
            "to show that anything here builds from source"
        )
    remote = [pkg for pkg in ctx.lock.packages if not pkg.is_local]
    if not remote or any(not pkg.wheels for pkg in remote):
        return None
    return f"all {len(remote)} packages in uv.lock ship wheels, and --ci removes exactly those"


UVC008 = Rule(
    "UVC008",
    "`uv cache prune --ci` empties a wheel cache",
    Severity.MINOR,
    "`uv cache prune --ci` removes pre-built wheels downloaded from the index and keeps "
    "wheels uv built from source. When every locked package ships wheels, it leaves "
    "almost nothing worth caching. It is right when builds from source dominate or the "
    "index is faster than the cache.",
    "Every run downloads all wheels again, plus the time to archive a nearly empty cache.",
    "Drop `uv cache prune --ci` (what `--fix` does when it is a script line of its own), or "
    "keep it and drop the cache if the index is fast.",
    uvc008,
)


def uvc009(ctx: Context) -> Iterator[Finding]:
    for job in ctx.pipeline.jobs:
        for line in job.scripts:
            for cmd in commands(line):
                how = _installs_uv(cmd)
                if how:
                    yield Finding(
                        "UVC009",
                        f"{how} in every run of the job",
                        line.loc,
                        (job.name,),
                        advice="use the image ghcr.io/astral-sh/uv:<version>-python3.X-"
                        "trixie-slim (pinned), " + GENERATE,
                    )
        if is_uv_image(job.image) and _unpinned_image(job.image or ""):
            yield Finding(
                "UVC009",
                f"image `{job.image}` does not pin uv: each pull may bring a different uv",
                ctx.pipeline.locate(job.config, "image"),
                (job.name,),
                advice="pin the tag, e.g. ghcr.io/astral-sh/uv:0.13.9-python3.12-trixie-slim",
            )


UVC009 = Rule(
    "UVC009",
    "uv is installed in every job",
    Severity.MINOR,
    "`pip install uv` or the curl installer in a script runs in every job; an unpinned "
    "install or a `:latest` uv image gives each run whatever uv is newest.",
    "A few seconds and a network dependency per job, and uv behaviour that changes "
    "between runs without a commit.",
    "Use a pinned uv image (`ghcr.io/astral-sh/uv:<version>-python3.X-trixie-slim`).",
    uvc009,
)


def _installs_uv(cmd: Command) -> str | None:
    argv = cmd.argv
    if argv[0] in ("curl", "wget") and any(_INSTALLER_URL.search(a) for a in argv):
        return "the uv installer script is downloaded and run"
    if argv[0] == "uv" or "install" not in argv:
        return None
    installer = argv[: argv.index("install")]
    if not any(word in ("pip", "pip3", "pipx") for word in installer):
        return None
    wanted = [a for a in argv[argv.index("install") + 1 :] if _UV_REQUIREMENT.match(a)]
    if not wanted:
        return None
    pinned = "" if "==" in wanted[0] else " (unpinned: whatever uv is newest today)"
    return f"`{' '.join(argv)}` installs uv{pinned}"


def _unpinned_image(image: str) -> bool:
    image, at, _digest = image.partition("@")  # `uv:0.9.17-trixie@sha256:...`: the tag
    if at and ":" not in image.rsplit("/", 1)[-1]:
        return False  # `uv@sha256:...`: pinned by its digest alone
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    return not re.match(r"^\d+\.\d+(\.\d+)?(-|$)", tag)


RULES: tuple[Rule, ...] = (
    UVC007,
    UVC008,
    UVC009,
)
