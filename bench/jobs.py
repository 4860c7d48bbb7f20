"""Runs a pipeline's jobs for real: cache restore, the job's script, cache save, each timed.

Cache semantics follow the GitLab runner with a distributed (S3) cache:
- restore: the first of ``key`` then ``fallback_keys`` that exists is downloaded and extracted;
- save (``pull-push``): nothing is uploaded when the cache paths hold no file ("no matching
  files"), nor when the job restored this very key and no file or directory under the paths is
  newer than the restored archive ("Archive is up to date!"); otherwise the paths are archived
  and uploaded, overwriting the key;
- jobs of one stage run in parallel on separate runners: each sees the storage as it was when
  the stage started, and their uploads land when the stage ends (the last one wins).
The jobs here run one after another so each is timed alone (the disk is synced before each, so
one job's buffered writes are not flushed during the next one's timing), in the same build
directory path (as on a CI runner, where uv's cache may hold absolute paths).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench import archive
from bench.archive import Format
from bench.proxy import IndexProxy
from bench.storage import CacheStore

Policy = Literal["pull", "pull-push", "push"]


@dataclass(frozen=True)
class CacheSpec:
    key: str
    paths: tuple[str, ...]
    policy: Policy
    fmt: Format
    fallback_keys: tuple[str, ...] = ()
    fastest: bool = False  # CACHE_COMPRESSION_LEVEL=fastest


@dataclass
class JobContext:
    """What a job's script sees: its build directory and environment."""

    workdir: Path
    env: dict[str, str]
    restored: dict[str, str] = field(default_factory=dict)  # cache key -> key actually restored


@dataclass(frozen=True)
class Job:
    name: str
    caches: tuple[CacheSpec, ...]
    script: Callable[[JobContext], None]
    variables: tuple[tuple[str, str], ...] = ()  # the job's own, over the pipeline's env


@dataclass(frozen=True)
class JobRecord:
    name: str
    stage: int
    restore_seconds: float
    install_seconds: float
    save_seconds: float
    index_bytes: int
    cache_download_bytes: int
    cache_upload_bytes: int
    restored: tuple[str, ...]
    saved: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return self.restore_seconds + self.install_seconds + self.save_seconds


@dataclass(frozen=True)
class Entry:
    """A cache key's object in storage and when it was uploaded."""

    obj: str
    stamp: float


@dataclass
class _Transfer:
    nbytes: int = 0
    keys: list[str] = field(default_factory=list)


class Runner:
    """Runs stages of jobs against one cache namespace in storage."""

    def __init__(self, store: CacheStore, proxy: IndexProxy, scratch: Path, namespace: str):
        self.store = store
        self.proxy = proxy
        self.scratch = scratch
        self.namespace = namespace
        self.index: dict[str, Entry] = {}
        # every job on a fresh runner (GitLab.com: a new VM per job): the checkout and what a
        # job leaves beside it (the generated cells' $CI_PROJECT_DIR.uvci) are wiped before it,
        # outside its timing, as a fresh VM starts without them
        self.builds = scratch / "builds" / "project"

    def run_stage(
        self, stage: int, jobs: list[Job], project_dir: Path, env: dict[str, str]
    ) -> list[JobRecord]:
        pending: dict[str, Entry] = {}
        records = [self._run_job(stage, job, project_dir, env, pending) for job in jobs]
        self.index.update(pending)
        return records

    def _run_job(
        self,
        stage: int,
        job: Job,
        project_dir: Path,
        env: dict[str, str],
        pending: dict[str, Entry],
    ) -> JobRecord:
        _wipe(self.builds)
        _wipe(self.builds.with_name(self.builds.name + ".uvci"))  # uvci's work dir beside it
        shutil.copytree(project_dir, self.builds)
        env = {**env, "UV_CACHE_DIR": str(self.builds / ".uv-cache")}
        ctx = JobContext(self.builds, {**env, **dict(job.variables)})
        os.sync()  # the previous job's writes reach the disk now, not during this job's timing
        t0 = time.monotonic()
        down = self._restore(job, ctx)
        t1 = time.monotonic()
        before, _ = self.proxy.counter.snapshot()
        job.script(ctx)
        after, _ = self.proxy.counter.snapshot()
        t2 = time.monotonic()
        up = self._save(job, ctx, pending)
        t3 = time.monotonic()
        return JobRecord(
            job.name, stage, t1 - t0, t2 - t1, t3 - t2, after - before,
            down.nbytes, up.nbytes, tuple(down.keys), tuple(up.keys),
        )  # fmt: skip

    def _restore(self, job: Job, ctx: JobContext) -> _Transfer:
        done = _Transfer()
        for cache in job.caches:
            if cache.policy == "push":
                continue
            for key in (cache.key, *cache.fallback_keys):
                entry = self.index.get(key)
                if entry is None:
                    continue
                local = self.scratch / "download.archive"
                got = self.store.get(entry.obj, local)
                if got is None:
                    continue
                archive.extract(local, ctx.workdir, cache.fmt)
                local.unlink()
                done.nbytes += got
                done.keys.append(key)
                ctx.restored[cache.key] = key
                break
        return done

    def _save(self, job: Job, ctx: JobContext, pending: dict[str, Entry]) -> _Transfer:
        done = _Transfer()
        for cache in job.caches:
            if cache.policy == "pull" or not self._changed(cache, ctx):
                continue
            local = self.scratch / "upload.archive"
            archive.create(ctx.workdir, cache.paths, local, cache.fmt, fastest=cache.fastest)
            obj = f"{self.namespace}/{cache.key}/{uuid.uuid4().hex}"
            done.nbytes += self.store.put(obj, local)
            local.unlink()
            pending[cache.key] = Entry(obj, time.time())
            done.keys.append(cache.key)
        return done

    def _changed(self, cache: CacheSpec, ctx: JobContext) -> bool:
        newest = archive.newest_mtime(ctx.workdir, cache.paths)
        if newest is None:
            return False  # "no matching files": the runner uploads nothing
        restored = ctx.restored.get(cache.key)
        if restored != cache.key:
            return True
        return newest > self.index[cache.key].stamp


def _wipe(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
