"""Rules for commands seen in real pipelines: unpinned uvx tools, `uv pip install` into a
synced env, retried syncs and a UV_VERSION nobody reads (UVC019-UVC022)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from uvci.doctor.context import Context
from uvci.doctor.model import Finding, Rule, Severity
from uvci.doctor.shell import Command, positional_args
from uvci.gitlab.read.pipeline import Job
from uvci.gitlab.read.variables import expand

_PINNED_TOOL = re.compile(r"(==|@)[\w.*+!-]+$|\.whl$|^[./~]|://")
_RETRIED = re.compile(r"\buv\s[^|&;\n]*\b(sync|lock)\b[^|&;\n]*\|\|.*\buv\s[^\n]*\b(sync|lock)\b")


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


UVC019 = Rule(
    "UVC019",
    "a tool run with uvx is not pinned",
    Severity.MINOR,
    "`uvx ruff`, `uv tool run tox` or `uv tool install X` without a version run whatever "
    "is newest on the index at that moment; the project's uv.lock does not cover them.",
    "A tool release can break (or silently change) the job without any commit.",
    "Pin the tool: `uvx ruff@0.8.0`, `uvx --from 'tox==4.23.2' tox`, or make it a "
    "dependency group and use `uv run`.",
    uvc019,
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


UVC020 = Rule(
    "UVC020",
    "`uv pip install` into an environment `uv sync` manages",
    Severity.MAJOR,
    "`uv sync` makes the project environment match the lock exactly and removes anything "
    "else. A `uv pip install X` before a later `uv sync` in the same job is undone by it.",
    "The job runs without the package it installed (or fails), and the install costs time "
    "for nothing.",
    "Declare the package in pyproject.toml (a dependency group) and `uv sync --group`, or "
    "use `uv run --with X`.",
    uvc020,
)


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


UVC021 = Rule(
    "UVC021",
    "a failed sync is retried",
    Severity.MAJOR,
    "`uv sync || (rm -rf .venv && uv sync)` and similar retry a failed sync or lock. uv "
    "fails for real reasons (a stale or broken lock, a missing index): the retry hides "
    "them, and without `--locked` the second sync quietly re-resolves.",
    "Broken locks pass CI; the retry doubles the job's install time when it triggers.",
    "Let the job fail: `uv sync --locked` alone, and fix the lock with `uv lock`.",
    uvc021,
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


UVC022 = Rule(
    "UVC022",
    "UV_VERSION is declared but not used",
    Severity.MINOR,
    "The pipeline declares `UV_VERSION` (as uv's GitLab guide does) but no image, installer "
    "or script refers to it, so it pins nothing.",
    "The uv version changes whenever the image or installer does, while the pipeline "
    "claims a pinned one.",
    "Use it in the image tag (`ghcr.io/astral-sh/uv:$UV_VERSION-python3.12-trixie-slim`) "
    "or the installer, or delete it.",
    uvc022,
)


RULES: tuple[Rule, ...] = (
    UVC019,
    UVC020,
    UVC021,
    UVC022,
)
