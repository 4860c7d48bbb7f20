"""Everything the rules look at: the resolved pipeline, the project, and facts derived per job."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from uvci.doctor import paths as p
from uvci.doctor.shell import Command, commands, uv_subcommand
from uvci.gitlab.jobparts import Cache
from uvci.gitlab.pipeline import Job, Pipeline
from uvci.gitlab.variables import expand
from uvci.lock import Lock
from uvci.project import Project

PYTHON_VARIABLES = ("PYTHON_VERSION", "PYTHON", "PY_VERSION", "PY", "PYTHON_VER", "UV_PYTHON")
INSTALLING = frozenset(
    {"sync", "run", "pip install", "pip sync", "pip compile", "tool install", "tool run"}
    | {"uvx", "add", "lock", "export", "python install"}
)
PROJECT_INSTALLS = frozenset({"sync", "run", "pip install", "pip sync", "add", "lock", "export"})
_VERSION = re.compile(r"^(?:cpython-|python)?(3\.\d{1,2})(?:\.\d+)?(?:-.*)?$")
_IMAGE_PYTHON = re.compile(r"(?:^|[/:-])python[:-]?(3\.\d{1,2})(?![\d])")
_UV_IMAGE = re.compile(r"(?:ghcr\.io/)?astral-sh/uv(?::|$)|(?:^|/)astral/uv(?::|$)")


@dataclass
class Context:
    pipeline: Pipeline
    project: Project | None
    lock: Lock | None
    has_lock: bool
    _commands: dict[int, list[Command]] = field(default_factory=dict)
    _uv: dict[int, list[tuple[str, Command]]] = field(default_factory=dict)
    _jobs: dict[str, list[Job]] = field(default_factory=dict)

    @property
    def project_dir(self) -> Path:
        return self.pipeline.project_dir

    def commands(self, job: Job) -> list[Command]:
        """All simple commands of the job's scripts, in order."""
        if id(job) not in self._commands:
            self._commands[id(job)] = [c for line in job.scripts for c in commands(line)]
        return self._commands[id(job)]

    def uv_commands(self, job: Job) -> list[tuple[str, Command]]:
        """``(subcommand, command)`` for each uv/uvx call of the job."""
        if id(job) not in self._uv:
            found = ((uv_subcommand(cmd), cmd) for cmd in self.commands(job))
            self._uv[id(job)] = [(sub, cmd) for sub, cmd in found if sub is not None]
        return self._uv[id(job)]

    def runs_uv(self, job: Job) -> bool:
        return bool(self.uv_commands(job)) or is_uv_image(job.image)

    def installs(self, job: Job) -> list[Command]:
        """The uv commands of ``job`` that resolve, download or install packages."""
        return [cmd for sub, cmd in self.uv_commands(job) if sub in INSTALLING]

    def uv_jobs(self) -> list[Job]:
        if "uv" not in self._jobs:
            self._jobs["uv"] = [job for job in self.pipeline.jobs if self.runs_uv(job)]
        return self._jobs["uv"]

    def downloads(self, job: Job) -> list[Command]:
        """Installing commands that may fetch from an index (no ``--offline``/``--no-index``)."""
        if job.variables.get("UV_OFFLINE", "").lower() in ("1", "true", "yes"):
            return []
        return [cmd for cmd in self.installs(job) if not cmd.has("--offline", "--no-index")]

    def find_links(self, job: Job) -> list[str]:
        """The local ``--find-links`` directories the job's uv commands install from."""
        found = (cmd.option("--find-links", "-f") for cmd in self.installs(job))
        return [link for link in found if link and "://" not in link]

    def installing_jobs(self) -> list[Job]:
        if "installing" not in self._jobs:
            self._jobs["installing"] = [job for job in self.pipeline.jobs if self.installs(job)]
        return self._jobs["installing"]

    def python_of(self, job: Job) -> tuple[str | None, str | None]:
        """``(minor version, variable it comes from)`` the job tests, when it can be told."""
        for name in PYTHON_VARIABLES:
            version = minor_version(expand(job.variables.get(name, ""), job.variables))
            if version:
                return version, name
        return self.requested_python(job) or image_python(job.image), None

    def requested_python(self, job: Job) -> str | None:
        """The Python the job asks uv for (``--python``/``-p``, ``UV_PYTHON``), if any."""
        for cmd in self.installs(job):
            version = minor_version(expand(cmd.option("--python", "-p") or "", job.variables))
            if version:
                return version
        return minor_version(expand(job.variables.get("UV_PYTHON", ""), job.variables))

    def uv_cache_dir(self, job: Job) -> p.CacheDir:
        """Where uv keeps its cache in ``job`` (``--cache-dir``, UV_CACHE_DIR or the default)."""
        for cmd in self.installs(job):
            value = cmd.option("--cache-dir")
            if value:
                return p.CacheDir(value, known=True)
        value = job.variables.get("UV_CACHE_DIR")
        if value is not None:
            return p.CacheDir(value, known="$" not in value)
        if any("UV_CACHE_DIR" in line.text for line in job.scripts) or any(
            "UV_CACHE_DIR" in raw for cache in job.caches for raw in cache.raw_paths
        ):
            return p.CacheDir("$UV_CACHE_DIR", known=False)  # set outside the YAML
        return p.CacheDir(None, known=True)

    def caches_uv(self, job: Job) -> bool:
        """Whether some cache of ``job`` holds uv's cache directory (or its wheelhouse)."""
        return any(self.holds_uv(job, cache) for cache in job.caches)

    def holds_uv(self, job: Job, cache: Cache) -> bool:
        """Whether ``cache`` holds what uv reads: its cache dir, or a ``--find-links`` dir."""
        if any("UV_CACHE_DIR" in raw for raw in cache.raw_paths):
            return True
        wanted = [*self.find_links(job)]
        cache_dir = self.uv_cache_dir(job).value
        if cache_dir:
            wanted.append(cache_dir)
        return any(p.covers(path, target) for path in cache.paths for target in wanted)

    def uv_caches(self, job: Job) -> list[Cache]:
        """The caches of ``job`` that matter to uv (other tools' caches are not judged)."""
        return [cache for cache in job.caches if cache.paths and self.holds_uv(job, cache)]


def minor_version(text: str) -> str | None:
    match = _VERSION.match(text.strip())
    return match.group(1) if match else None


def image_python(image: str | None) -> str | None:
    """The CPython minor an image name promises (``python:3.12-slim``, ``uv:python3.12-...``)."""
    if not image:
        return None
    match = _IMAGE_PYTHON.search(image.rsplit("/", 1)[-1])
    return match.group(1) if match else None


def is_uv_image(image: str | None) -> bool:
    return bool(image and _UV_IMAGE.search(image))
