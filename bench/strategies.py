"""The five pipelines, as stages of jobs whose scripts do each strategy's dependency work.

- ``none``: every test job syncs from the index with an empty uv cache.
- ``seed``: one uv cache per Python keyed on ``pyproject.toml`` (zip); a job that restored it
  deletes it at the end so the runner has nothing to upload (the seed's trick).
- ``uv-docs``: uv's GitLab guide: one cache keyed on ``uv.lock`` shared by every job,
  ``pull-push``, ``uv cache prune --ci`` at the end of each job.
- ``tuned``: the best a careful user writes by hand from uv's guide and GitLab's docs: uv's
  cache per Python keyed on ``uv.lock`` (``key: files: [uv.lock]``, ``prefix: py$PYTHON``),
  inside the project dir, tar+zstd at the "fastest" level, no ``uv cache prune --ci``,
  ``UV_LINK_MODE=hardlink``, ``pull-push``: the runner skips the upload when nothing under the
  path is newer than the restored archive (jobs.py replays that rule on every file and directory
  uv touched).
- ``uvci``: the pipeline ``uvci generate`` writes, replayed job by job (see uvci_strategy.py).
The first four install with ``uv sync --locked``; every job starts with an empty
``UV_CACHE_DIR`` (inside the build dir) unless its strategy restored one.
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
from uvci.util.uvproc import run_uv

STRATEGIES = ("none", "seed", "uv-docs", "tuned", "uvci")
UV_CACHE = ".uv-cache"


@dataclass(frozen=True)
class PipelineSpec:
    """What a pipeline is built from: the project checkout, the matrix, the cache settings."""

    project_dir: Path
    pythons: dict[str, Path]  # "3.12" -> interpreter
    cache_format: Format  # for the strategies that leave GitLab's default alone
    tools: uvci_strategy.Tools | None = None  # uv and uvx for uvci's jobs (required for uvci)
    generate_args: tuple[str, ...] = ()  # more `uvci generate` options (the unit tests')


def build(strategy: str, spec: PipelineSpec) -> list[list[Job]]:
    """The pipeline's stages for ``strategy``."""
    builders: dict[str, Callable[[PipelineSpec], list[list[Job]]]] = {
        "none": _none, "seed": _seed, "uv-docs": _uv_docs, "tuned": _tuned, "uvci": _uvci,
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


def _tuned(spec: PipelineSpec) -> list[list[Job]]:
    lock = lock_hash(spec.project_dir)

    def job(version: str, python: Path) -> Job:
        cache = CacheSpec(f"py{version}-{lock}", (UV_CACHE,), "pull-push", "tarzstd", fastest=True)
        return Job(f"test {version}", (cache,), _sync(python), (("UV_LINK_MODE", "hardlink"),))

    return [[job(v, py) for v, py in spec.pythons.items()]]


def _uvci(spec: PipelineSpec) -> list[list[Job]]:
    if spec.tools is None:
        raise BenchError("the uvci strategy needs uv and uvx for its jobs (PipelineSpec.tools)")
    return uvci_strategy.build(spec.project_dir, spec.pythons, spec.tools, spec.generate_args)
