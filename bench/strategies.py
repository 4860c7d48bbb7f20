"""The four pipelines, as stages of jobs whose scripts do each strategy's dependency work.

- ``none``: every test job syncs from the index with an empty uv cache.
- ``seed``: one uv cache per Python keyed on ``pyproject.toml`` (zip); a job that restored it
  deletes it at the end so the runner has nothing to upload (the seed's trick).
- ``uv-docs``: uv's GitLab guide: one cache keyed on ``uv.lock`` shared by every job,
  ``pull-push``, ``uv cache prune --ci`` at the end of each job.
- ``uvci``: ``uvci generate``'s pipeline (see uvci_strategy.py): prefetch then offline installs.
The first three install with ``uv sync --locked``; every job starts with an empty ``UV_CACHE_DIR``
unless its strategy restored one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import uvci_strategy
from bench.archive import Format
from bench.jobs import CacheSpec, Job, JobContext
from bench.projects import BenchError, file_hash, lock_hash
from uvci.uvproc import run_uv

STRATEGIES = ("none", "seed", "uv-docs", "uvci")
UV_CACHE = ".uv-cache"


@dataclass(frozen=True)
class PipelineSpec:
    """What a pipeline is built from: the project checkout, the matrix, the cache settings."""

    project_dir: Path
    pythons: dict[str, Path]  # "3.12" -> interpreter
    layout: str  # uvci's wheelhouse layout, as `uvci plan` chose: shared or per-cell
    cache_format: Format  # for the strategies that leave GitLab's default alone
    lock_changed: bool = True  # False for a warm pipeline: uv.lock is the one the cache holds


def build(strategy: str, spec: PipelineSpec) -> list[list[Job]]:
    """The pipeline's stages for ``strategy``."""
    builders: dict[str, Callable[[PipelineSpec], list[list[Job]]]] = {
        "none": _none, "seed": _seed, "uv-docs": _uv_docs, "uvci": _uvci,
    }  # fmt: skip
    return builders[strategy](spec)


def _check(result: tuple[int, str, str], what: str) -> str:
    rc, out, err = result
    if rc != 0:
        raise BenchError(f"{what} failed (exit {rc}): {(err or out).strip()[-1500:]}")
    return out


def _sync(python: Path) -> Callable[[JobContext], None]:
    def script(ctx: JobContext) -> None:
        args = ["sync", "--locked", "--no-install-project", "--python", str(python)]
        _check(run_uv(args, cwd=ctx.workdir, env=ctx.env, timeout=1800), "uv sync")

    return script


def _none(spec: PipelineSpec) -> list[list[Job]]:
    return [[Job(f"test {v}", (), _sync(py)) for v, py in spec.pythons.items()]]


def _seed(spec: PipelineSpec) -> list[list[Job]]:
    key = file_hash(spec.project_dir / "pyproject.toml")

    def job(version: str, python: Path) -> Job:
        sync = _sync(python)

        def script(ctx: JobContext) -> None:
            restored = (ctx.workdir / UV_CACHE).is_dir()
            sync(ctx)
            if restored:
                shutil.rmtree(ctx.workdir / UV_CACHE)

        cache = CacheSpec(f"{version}-{key}", (UV_CACHE,), "pull-push", spec.cache_format)
        return Job(f"test {version}", (cache,), script)

    return [[job(v, py) for v, py in spec.pythons.items()]]


def _uv_docs(spec: PipelineSpec) -> list[list[Job]]:
    cache = CacheSpec(lock_hash(spec.project_dir), (UV_CACHE,), "pull-push", spec.cache_format)

    def job(version: str, python: Path) -> Job:
        sync = _sync(python)

        def script(ctx: JobContext) -> None:
            sync(ctx)
            _check(run_uv(["cache", "prune", "--ci"], env=ctx.env), "uv cache prune --ci")

        return Job(f"test {version}", (cache,), script)

    return [[job(v, py) for v, py in spec.pythons.items()]]


def _uvci(spec: PipelineSpec) -> list[list[Job]]:
    return uvci_strategy.build(spec.project_dir, spec.pythons, spec.layout, spec.lock_changed)
