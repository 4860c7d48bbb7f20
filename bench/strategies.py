"""The four pipelines, as stages of jobs whose scripts do each strategy's dependency work.

- ``none``: every test job syncs from the index with an empty uv cache.
- ``seed``: one uv cache per Python keyed on ``pyproject.toml`` (zip); a job that restored it
  deletes it at the end so the runner has nothing to upload (the seed's trick).
- ``uv-docs``: uv's GitLab guide: one cache keyed on ``uv.lock`` shared by every job,
  ``pull-push``, ``uv cache prune --ci`` at the end of each job.
- ``uvci``: a prefetch job restores the wheelhouse (tar+zstd, keyed on ``uv.lock``, falling back
  to the previous lock's key), runs the real ``uvci prefetch`` and uploads only when it says the
  wheelhouse changed; test cells restore it pull-only and install offline from it.
The first three install with ``uv sync --locked``; every job starts with an empty ``UV_CACHE_DIR``
unless its strategy restored one.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.archive import Format
from bench.jobs import CacheSpec, Job, JobContext, Policy
from bench.projects import BenchError, Layout, file_hash, lock_hash
from uvci.uvproc import cmd_output, run_uv

STRATEGIES = ("none", "seed", "uv-docs", "uvci")
UV_CACHE = ".uv-cache"
WHEELHOUSE = ".uvci/wheels"


@dataclass(frozen=True)
class PipelineSpec:
    """What a pipeline is built from: the project checkout, the matrix, the cache settings."""

    project_dir: Path
    pythons: dict[str, Path]  # "3.12" -> interpreter
    layout: Layout
    cache_format: Format  # for the strategies that leave GitLab's default alone
    previous_lock: str | None  # lock hash of the previous pipeline (uvci's fallback key)


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


def _wheel_caches(spec: PipelineSpec, policy: Policy) -> dict[str, CacheSpec]:
    """The wheelhouse caches by directory: one shared, or one per cell."""
    lock = lock_hash(spec.project_dir)
    cells = [""] if spec.layout == "shared" else list(spec.pythons)
    caches: dict[str, CacheSpec] = {}
    for cell in cells:
        path = f"{WHEELHOUSE}/{cell}".rstrip("/")
        prefix = f"uvci-wheels-{cell}-".replace("--", "-")
        fallback = (prefix + spec.previous_lock,) if spec.previous_lock else ()
        caches[path] = CacheSpec(prefix + lock, (path,), policy, "tarzstd", fallback)
    return caches


def _uvci(spec: PipelineSpec) -> list[list[Job]]:
    caches = _wheel_caches(spec, "pull-push")
    pythons = list(spec.pythons)

    def prefetch(ctx: JobContext) -> None:
        for path in caches:
            cells = pythons if spec.layout == "shared" else [path.rsplit("/", 1)[1]]
            _prefetch(ctx, path, cells)

    stages = [[Job("prefetch", tuple(caches.values()), prefetch)]]
    pulls = _wheel_caches(spec, "pull")
    stages.append([_offline_cell(v, py, spec, pulls) for v, py in spec.pythons.items()])
    return stages


def _prefetch(ctx: JobContext, path: str, cells: list[str]) -> None:
    """Run ``uvci prefetch``; move the wheelhouse out of the cache paths when unchanged."""
    cmd = [sys.executable, "-m", "uvci", "prefetch", str(ctx.workdir)]
    cmd += ["--wheelhouse", str(ctx.workdir / path), "--python", ",".join(cells), "--json"]
    out = _check(cmd_output(cmd, cwd=ctx.workdir, env=ctx.env, timeout=1800), "uvci prefetch")
    try:
        changed = bool(json.loads(out)["changed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"uvci prefetch --json printed no 'changed': {out[:300]!r}") from exc
    if not changed:  # the after_script trick: nothing left at the cache path, nothing uploaded
        aside = ctx.workdir / ".uvci" / "unchanged" / "-".join(cells)
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(ctx.workdir / path, aside)


def _offline_cell(
    version: str, python: Path, spec: PipelineSpec, pulls: dict[str, CacheSpec]
) -> Job:
    path = WHEELHOUSE if spec.layout == "shared" else f"{WHEELHOUSE}/{version}"

    def script(ctx: JobContext) -> None:
        wheels = ctx.workdir / path
        venv = ctx.workdir / ".venv"
        _check(run_uv(["venv", "--python", str(python), str(venv)], env=ctx.env), "uv venv")
        args = ["pip", "install", "--python", str(venv / "bin" / "python"), "--offline"]
        args += ["--no-index", "--find-links", str(wheels)]
        args += ["-r", str(wheels / f"requirements-{version}.txt")]
        _check(run_uv(args, cwd=ctx.workdir, env=ctx.env, timeout=1800), "offline install")

    return Job(f"test {version}", (pulls[path],), script)
