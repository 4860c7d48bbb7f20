"""The rule about uv.lock itself (UVC024): out of date with pyproject.toml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from uvci.doctor.context import Context
from uvci.doctor.lockcheck import stale_because
from uvci.doctor.model import Finding, Rule, Severity
from uvci.gitlab.read.nodes import Loc


def uvc024(ctx: Context) -> Iterator[Finding]:
    users: dict[Path, list[str]] = {}  # each uv.lock the jobs install from, and its jobs
    for job in ctx.project_jobs():
        directory = ctx.lock_dir_for(job)
        if directory is not None:
            users.setdefault(directory, []).append(job.name)
    for directory, jobs in users.items():
        reason = stale_because(directory)
        if reason is None:
            continue
        yield Finding(
            "UVC024",
            f"uv.lock is out of date with pyproject.toml (uv: {reason}): a `--locked` job "
            "fails, any other re-resolves and installs what nobody locked",
            Loc(directory / "uv.lock", 1),
            tuple(jobs),
            advice="run `uv lock` and commit uv.lock (then `--locked` can be added: UVC007)",
        )


def is_stale(directory: Path | None) -> bool:
    """Whether the uv.lock in ``directory`` is known to be out of date (UVC024 reports it)."""
    return directory is not None and stale_because(directory) is not None


UVC024 = Rule(
    "UVC024",
    "uv.lock is out of date",
    Severity.MAJOR,
    "uv.lock no longer matches pyproject.toml (a dependency, group, requires-python or the "
    "project itself changed, and nobody ran `uv lock`), as `uv lock --check` tells. The "
    "message quotes uv's reason.",
    "Every `uv sync --locked`/`uv run --locked` job fails; jobs without `--locked` resolve "
    "again in every run and test versions nobody locked or reviewed.",
    "Run `uv lock` and commit uv.lock. Only then add `--locked` (UVC007): on a stale lock it "
    "would fail every job, so `--fix` leaves those commands alone until the lock is current.",
    uvc024,
)

RULES: tuple[Rule, ...] = (UVC024,)
