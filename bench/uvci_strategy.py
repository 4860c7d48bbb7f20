"""The ``uvci`` strategy: the pipeline ``uvci generate`` writes, its dependency work done for real.

Mirrors the generated jobs (src/uvci/gitlab/pipeline_gen.py, pipeline_scripts.py):
- prefetch: one job (shared wheelhouse) or one per Python (per-cell), as ``uvci plan`` chooses.
  Caches: the wheelhouse keyed on ``uv.lock`` with a ``<prefix>-latest`` fallback (pull-push),
  and the same paths pushed under ``<prefix>-latest``; tar+zstd at the "fastest" level. It runs
  the real ``uvci prefetch``; when that leaves ``W.unchanged`` and the wheelhouse was saved for
  this very lock (``W.lock-sha256``), both paths are moved aside so nothing is uploaded.
  The prefetch stage runs only when ``uv.lock`` (or the pipeline) changed: the generated job's
  ``rules: changes``. A warm pipeline (same lock) has no prefetch stage at all.
- test cells: the wheelhouse pull-only (same key and fallback); if no wheelhouse for this lock
  came back, the cell prefetches its own files; then ``uv venv`` and the offline install (uv
  checks every file's hash); if that fails, the cell prefetches its files and installs again.
Every job gets the generated ``.uvci`` template's uv variables (``UV_LINK_MODE=hardlink``: uv's
cache is kept in the build dir beside the venv) and ``UV_CACHE_DIR=.uvci/uv-cache``.
Not replayed: the ``uvci-tool`` cache holding uvci itself (uvci runs from the bench's venv).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from bench.jobs import CacheSpec, Job, JobContext, Policy
from bench.projects import BenchError
from uvci.gitlab.pipeline_gen import BASE_VARIABLES, UV_CACHE
from uvci.uvproc import cmd_output, run_uv
from uvci.wheelhouse import offline_install_command

WHEELHOUSE = ".uvci/wheels"
STAMP = f"{WHEELHOUSE}.lock-sha256"
UNCHANGED = f"{WHEELHOUSE}.unchanged"
ASIDE = ".uvci/unchanged"
VENV = ".uvci/venv"
PATHS = (WHEELHOUSE, STAMP)
# what the generated jobs set for uv: the template's UV_* variables and UV_CACHE_DIR
VARIABLES = (
    *((k, v) for k, v, _ in BASE_VARIABLES if k.startswith("UV_")),
    ("UV_CACHE_DIR", UV_CACHE),
)


def check(result: tuple[int, str, str], what: str) -> str:
    rc, out, err = result
    if rc != 0:
        raise BenchError(f"{what} failed (exit {rc}): {(err or out).strip()[-1500:]}")
    return out


def plan_layout(project_dir: Path, pythons: list[str]) -> str:
    """The wheelhouse layout ``uvci plan`` chooses for this matrix: shared or per-cell."""
    cmd = [sys.executable, "-m", "uvci", "plan", str(project_dir), "--python", ",".join(pythons)]
    out = check(cmd_output([*cmd, "--json"], timeout=300), "uvci plan")
    return str(json.loads(out)["layout"])


def build(
    project_dir: Path, pythons: dict[str, Path], layout: str, lock_changed: bool
) -> list[list[Job]]:
    lock = hashlib.sha256((project_dir / "uv.lock").read_bytes()).hexdigest()
    versions = list(pythons)
    if layout == "shared":
        prefixes = dict.fromkeys(versions, "uvci-wheels")
        prefetch = [_prefetch_job("prefetch", "uvci-wheels", lock, versions, [])]
    else:
        prefixes = {v: f"uvci-wheels-py{v}" for v in versions}
        prefetch = [
            _prefetch_job(f"prefetch {v}", prefixes[v], lock, versions, [v]) for v in versions
        ]
    tests = [_test_job(v, py, prefixes[v], lock, versions) for v, py in pythons.items()]
    return [prefetch, tests] if lock_changed else [tests]


def _wheel_cache(prefix: str, lock: str, policy: Policy) -> CacheSpec:
    return CacheSpec(f"{prefix}-{lock[:16]}", PATHS, policy, "tarzstd", (f"{prefix}-latest",), True)


def _prefetch_job(name: str, prefix: str, lock: str, versions: list[str], cells: list[str]) -> Job:
    latest = CacheSpec(f"{prefix}-latest", PATHS, "push", "tarzstd", fastest=True)

    def script(ctx: JobContext) -> None:
        _prefetch(ctx, versions, cells)
        stamp = ctx.workdir / STAMP
        saved_for_lock = stamp.is_file() and stamp.read_text().strip() == lock
        if (ctx.workdir / UNCHANGED).is_file() and saved_for_lock:
            aside = ctx.workdir / ASIDE
            aside.mkdir(parents=True, exist_ok=True)
            for path in PATHS:
                shutil.move(ctx.workdir / path, aside / Path(path).name)
        else:
            stamp.write_text(lock + "\n")

    return Job(name, (_wheel_cache(prefix, lock, "pull-push"), latest), script, VARIABLES)


def _prefetch(ctx: JobContext, versions: list[str], cells: list[str]) -> dict[str, object]:
    cmd = [sys.executable, "-m", "uvci", "prefetch", str(ctx.workdir)]
    cmd += ["--python", ",".join(versions), "--wheelhouse", str(ctx.workdir / WHEELHOUSE)]
    for cell in cells:
        cmd += ["--cell", cell]
    out = check(
        cmd_output([*cmd, "--json"], cwd=ctx.workdir, env=ctx.env, timeout=1800), "uvci prefetch"
    )
    try:
        report = json.loads(out)
        bool(report["changed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"uvci prefetch --json printed no 'changed': {out[:300]!r}") from exc
    return dict(report)


def _test_job(version: str, python: Path, prefix: str, lock: str, versions: list[str]) -> Job:
    def script(ctx: JobContext) -> None:
        stamp = ctx.workdir / STAMP
        if not (stamp.is_file() and stamp.read_text().strip() == lock):
            _prefetch(ctx, versions, [version])  # the generated wheelhouse guard
        check(
            run_uv(["venv", "--python", str(python), VENV], cwd=ctx.workdir, env=ctx.env), "uv venv"
        )
        argv = offline_install_command(Path(WHEELHOUSE), version, f"{VENV}/bin/python")
        if run_uv(argv, cwd=ctx.workdir, env=ctx.env, timeout=1800)[0] != 0:
            _prefetch(ctx, versions, [version])  # a file failed uv's hash check: fetch it
            check(run_uv(argv, cwd=ctx.workdir, env=ctx.env, timeout=1800), "offline install")

    return Job(f"test {version}", (_wheel_cache(prefix, lock, "pull"),), script, VARIABLES)
