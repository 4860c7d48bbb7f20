"""Everything the rules look at: the resolved pipeline, the project, and facts derived per job."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from uvci.doctor import paths as p
from uvci.doctor.images import image_python, is_uv_image, minor_version
from uvci.doctor.shell import Command, commands, positional_args, program_of, uv_subcommand
from uvci.gitlab.read.jobparts import Cache
from uvci.gitlab.read.nodes import Loc
from uvci.gitlab.read.pipeline import Job, Pipeline, predefined
from uvci.gitlab.read.variables import expand
from uvci.model.lock import Lock
from uvci.model.project import Project, allowed

PYTHON_VARIABLES = ("PYTHON_VERSION", "PYTHON", "PY_VERSION", "PY", "PYTHON_VER", "UV_PYTHON")
INSTALLING = frozenset(
    {"sync", "run", "pip install", "pip sync", "pip compile", "tool install", "tool run"}
    | {"uvx", "add", "lock", "export", "python install"}
)
PROJECT_INSTALLS = frozenset({"sync", "run", "pip install", "pip sync", "add", "lock", "export"})
# the venv a generated cell installs uvci into (pinned by hash): a tool, not the project
# (beside the checkout since the work dirs moved out of it; inside it before)
UVCI_TOOL_PYTHONS = frozenset({"$uvci_work/tool/bin/python", ".uvci/tool/bin/python"})
TRUE = frozenset({"1", "true", "yes", "on"})
# tools that install the project's test environments with uv themselves (nox-uv, tox-uv)
TEST_RUNNERS = frozenset({"nox", "tox", "hatch"})
_EXPORT = re.compile(r"(?:^|[;&|\n])\s*export\s+([A-Za-z_]\w*)=(\"[^\"]*\"|'[^']*'|\S*)")
_PROJECT_PATH = re.compile(r"^(\.|\./.*|/.*|.*\.whl|.*\.tar\.gz|.*\.zip)$")
# a variable left unexpanded (set outside the YAML) names the project when it names a path
_PATH_VARIABLE = re.compile(r"^\$\{?\w*(PROJECT|DIR|PATH|WHEEL|WHL|DIST|SDIST|ARTIFACT)", re.I)


@dataclass
class Context:
    pipeline: Pipeline
    project: Project | None
    lock: Lock | None
    has_lock: bool
    _commands: dict[int, list[Command]] = field(default_factory=dict)
    _uv: dict[int, list[tuple[str, Command]]] = field(default_factory=dict)
    _jobs: dict[str, list[Job]] = field(default_factory=dict)
    _env: dict[int, dict[str, str]] = field(default_factory=dict)
    _installs: dict[int, list[Command]] = field(default_factory=dict)
    _uv_caches: dict[int, list[Cache]] = field(default_factory=dict)
    _caches_uv: dict[int, bool] = field(default_factory=dict)
    _python: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    _requested: dict[int, str | None] = field(default_factory=dict)

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
        if id(job) not in self._installs:
            self._installs[id(job)] = [
                cmd
                for sub, cmd in self.uv_commands(job)
                if sub in INSTALLING and not (sub == "run" and _no_sync(self, job, cmd))
            ]
        return self._installs[id(job)]

    def uv_jobs(self) -> list[Job]:
        if "uv" not in self._jobs:
            self._jobs["uv"] = [job for job in self.pipeline.jobs if self.runs_uv(job)]
        return self._jobs["uv"]

    def env(self, job: Job) -> dict[str, str]:
        """The job's variables, plus what its scripts ``export``, values expanded."""
        if id(job) not in self._env:
            env = {**predefined(job.name, job.config), **job.variables}
            for line in job.scripts:
                for name, value in _EXPORT.findall(line.text):
                    env[name] = expand(value.strip("\"'"), env)
            self._env[id(job)] = {k: expand(v, env) for k, v in env.items()}
        return self._env[id(job)]

    def variable_loc(self, job: Job, name: str) -> Loc | None:
        """Where variable ``name`` of ``job`` is set: the job's ``variables:``, a script's
        ``export``, or the pipeline's ``variables:`` (None when not in the YAML)."""
        own = job.config.get("variables")
        if isinstance(own, Mapping) and name in own:
            return self.pipeline.locate(own, name)
        for line in job.scripts:
            if any(found == name for found, _ in _EXPORT.findall(line.text)):
                return line.loc
        top = self.pipeline.config.get("variables")
        if isinstance(top, Mapping) and name in top:
            return self.pipeline.locate(top, name)
        return None

    def flag(self, job: Job, name: str, cmd: Command | None = None) -> bool:
        """Whether uv variable ``name`` is on for ``cmd`` (its own ``NAME=1`` prefix) or the job."""
        value = dict(cmd.env).get(name) if cmd is not None else None
        return (value if value is not None else self.env(job).get(name, "")).lower() in TRUE

    def has_lock_for(self, job: Job) -> bool:
        """Whether uv.lock exists where the job runs uv: the project, or a directory its
        script changes to (``cd server/``) before it does."""
        return self.lock_dir_for(job) is not None

    def lock_dir_for(self, job: Job) -> Path | None:
        """The directory of the uv.lock the job's uv commands use (see :meth:`has_lock_for`)."""
        if self.has_lock:
            return self.project_dir
        dirs = [c.argv[1] for c in self.commands(job) if c.argv[0] == "cd" and len(c.argv) == 2]
        found = [self.project_dir / d for d in dirs if _lock_in(self.project_dir, d)]
        return found[0] if found else None

    def installs_project(self, job: Job) -> bool:
        """Whether the job installs the project's dependencies (a test or build job), not a
        helper that runs or installs a few named tools (``uv pip install --system twine``)."""
        for sub, cmd in self.uv_commands(job):
            if sub in ("sync", "pip sync", "export") or (sub == "run" and not _no_project(cmd)):
                return True
            if sub == "pip install" and _installs_project(cmd, self.env(job)):
                return True
        return False

    def runs_test_runner(self, job: Job) -> bool:
        """Whether the job runs nox, tox or hatch through uv (``uvx nox``): sessions that
        install the project, per Python, into uv's cache."""
        for sub, cmd in self.uv_commands(job):
            name = program_of(cmd) if sub in ("uvx", "tool run", "run") else None
            if name and re.split(r"[\[<>=!~@ ]", name, maxsplit=1)[0] in TEST_RUNNERS:
                return True
        return False

    def testing_jobs(self) -> list[Job]:
        """:meth:`project_jobs` and the jobs that test the project through a test runner."""
        if "testing" not in self._jobs:
            project = self.project_jobs()
            ids = {id(job) for job in project}
            runners = [j for j in self.uv_jobs() if id(j) not in ids and self.runs_test_runner(j)]
            self._jobs["testing"] = [*project, *runners]
        return self._jobs["testing"]

    def project_jobs(self) -> list[Job]:
        if "project" not in self._jobs:
            self._jobs["project"] = [j for j in self.installing_jobs() if self.installs_project(j)]
        return self._jobs["project"]

    def downloads(self, job: Job) -> list[Command]:
        """Installing commands that may fetch from an index (no ``--offline``/``--no-index``;
        ``uv export --frozen``/``--locked`` reads the lock only)."""
        if self.flag(job, "UV_OFFLINE"):
            return []
        subs = dict((id(cmd), sub) for sub, cmd in self.uv_commands(job))
        return [
            cmd
            for cmd in self.installs(job)
            if not cmd.has("--offline", "--no-index")
            and not (subs[id(cmd)] == "export" and cmd.has("--frozen", "--locked"))
        ]

    def project_downloads(self, job: Job) -> list[Command]:
        """The downloads of the project's dependencies (not of tools; a frozen export reads
        the lock only)."""
        subs = dict((id(cmd), sub) for sub, cmd in self.uv_commands(job))
        return [
            cmd
            for cmd in self.downloads(job)
            if subs[id(cmd)] in PROJECT_INSTALLS and cmd.option("--python") not in UVCI_TOOL_PYTHONS
        ]

    def find_links(self, job: Job) -> list[str]:
        """The local ``--find-links`` directories the job's uv commands install from."""
        found = (cmd.option("--find-links", "-f") for cmd in self.installs(job))
        return [link for link in found if link and "://" not in link]

    def installing_jobs(self) -> list[Job]:
        if "installing" not in self._jobs:
            self._jobs["installing"] = [job for job in self.pipeline.jobs if self.installs(job)]
        return self._jobs["installing"]

    def python_of(self, job: Job) -> tuple[str | None, str | None]:
        """``(minor version, variable it comes from)`` the job tests, when it can be told.

        A variable counts when the job uses it (a matrix cell, the image, a script, or
        UV_PYTHON): a global ``PYTHON_VERSION`` nothing reads says nothing. An image Python
        that requires-python excludes is not tested: uv picks (downloads) another one.
        """
        if id(job) not in self._python:
            self._python[id(job)] = self._python_of(job)
        return self._python[id(job)]

    def _python_of(self, job: Job) -> tuple[str | None, str | None]:
        for name in PYTHON_VARIABLES:
            version = minor_version(self.env(job).get(name, ""))
            if version and self._uses(job, name):
                asked = self.requested_python(job) == version
                return (version if asked or self._allowed(version) else None), name
        requested = self.requested_python(job)
        if requested:
            return requested, None
        have = image_python(job.image)
        return (have if have and self._allowed(have) else None), None

    def _uses(self, job: Job, name: str) -> bool:
        if name in job.cell or name == "UV_PYTHON":
            return True
        used = re.compile(rf"\$\{{?{name}\b")
        image = job.config.get("image")
        raw = image.get("name") if isinstance(image, Mapping) else image
        return bool(used.search(str(raw or ""))) or any(used.search(x.text) for x in job.scripts)

    def _allowed(self, version: str) -> bool:
        return self.project is None or allowed(self.project.requires_python, version)

    def requested_python(self, job: Job) -> str | None:
        """The Python the job asks uv for (``--python``/``-p``, ``UV_PYTHON``), if any: of its
        installing commands or ``uv venv`` (which finds or downloads the interpreter too)."""
        if id(job) not in self._requested:
            self._requested[id(job)] = self._requested_python(job)
        return self._requested[id(job)]

    def _requested_python(self, job: Job) -> str | None:
        venvs = [cmd for sub, cmd in self.uv_commands(job) if sub == "venv"]
        for cmd in [*venvs, *self.installs(job)]:
            version = minor_version(expand(cmd.option("--python", "-p") or "", self.env(job)))
            if version:
                return version
        return minor_version(self.env(job).get("UV_PYTHON", ""))

    def uv_cache_dir(self, job: Job) -> p.CacheDir:
        """Where uv keeps its cache in ``job`` (``--cache-dir``, UV_CACHE_DIR or the default)."""
        env = self.env(job)
        for cmd in self.installs(job):
            value = cmd.option("--cache-dir") or dict(cmd.env).get("UV_CACHE_DIR")
            if value:
                return _cache_dir(expand(value, env))
        value = env.get("UV_CACHE_DIR")
        if value is not None:
            return _cache_dir(value)
        if any("UV_CACHE_DIR" in line.text for line in job.scripts) or any(
            "UV_CACHE_DIR" in raw for cache in job.caches for raw in cache.raw_paths
        ):
            return p.CacheDir("$UV_CACHE_DIR", known=False)  # set outside the YAML
        return p.CacheDir(None, known=True)

    def caches_uv(self, job: Job) -> bool:
        """Whether some cache of ``job`` holds uv's cache directory (or its wheelhouse)."""
        if id(job) not in self._caches_uv:
            self._caches_uv[id(job)] = any(self.holds_uv(job, cache) for cache in job.caches)
        return self._caches_uv[id(job)]

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
        """The caches of ``job`` that matter to uv (other tools' caches are not judged): the
        ones that hold uv's cache dir, and the ones plainly meant for it (``.cache/uv`` while
        UV_CACHE_DIR is unset: UVC002 says so; its key, sharing and uploads are judged too)."""
        if id(job) not in self._uv_caches:
            self._uv_caches[id(job)] = [
                cache
                for cache in job.caches
                if cache.paths
                and (self.holds_uv(job, cache) or any(p.meant_for_uv(x) for x in cache.paths))
            ]
        return self._uv_caches[id(job)]

    def package_caches(self, job: Job) -> list[Cache]:
        """:meth:`uv_caches` and the caches of a virtual environment uv installs into."""
        uv = {id(cache) for cache in self.uv_caches(job)}
        return [
            cache
            for cache in job.caches
            if id(cache) in uv or (cache.paths and self.caches_venv(job, cache))
        ]

    def caches_venv(self, job: Job, cache: Cache) -> bool:
        venv = self.env(job).get("UV_PROJECT_ENVIRONMENT")
        return any(p.is_venv(path) or bool(venv and p.covers(path, venv)) for path in cache.paths)


def _lock_in(root: Path, directory: str) -> bool:
    if "$" in directory or directory.startswith(("/", "~")):
        return False
    target = root / directory / "uv.lock"
    return target.resolve().is_relative_to(root.resolve()) and target.is_file()


def _cache_dir(value: str) -> p.CacheDir:
    """A cache dir that only ``$CI_PROJECT_DIR``/``$HOME`` leave symbolic is known."""
    return p.CacheDir(value, known="$" not in p.normalize(value) or p.in_project(value) is False)


def _no_sync(ctx: Context, job: Job, cmd: Command) -> bool:
    """``uv run --no-sync`` (or UV_NO_SYNC) runs what is installed: it installs nothing."""
    return cmd.has("--no-sync") or ctx.flag(job, "UV_NO_SYNC", cmd)


def _no_project(cmd: Command) -> bool:
    return cmd.has("--no-project", "--script")


def _installs_project(cmd: Command, env: Mapping[str, str]) -> bool:
    """``uv pip install`` of the project, its requirements or its built wheels (arguments
    read after the job's variables are expanded: ``"$PKG"`` may be a package's name)."""
    if cmd.has("-r", "--requirement", "--requirements", "-e", "--editable", "--group"):
        return True
    args = [expand(arg, env) for arg in positional_args(cmd, 3)]
    return any(_PROJECT_PATH.match(arg) or _PATH_VARIABLE.match(arg) for arg in args)
