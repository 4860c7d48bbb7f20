"""Run a generated pipeline with gitlab-ci-local on a test project served by a loopback index.

**In containers** (``Harness(..., images=container_images)``, the session fixture of
tests/conftest.py), as the generated pipeline's tests run it: the docker executor, as a GitLab
docker runner, with podman instead of a Docker engine (:data:`DOCKER_ARGS`:
``--container-executable tests/support/podman-gcl --pull-policy if-not-present --network
host``, and ``CONTAINERS_CONF``). Each job runs in its ``image:``, built locally by
tests/support/images.py under the upstream name, and reaches the loopback index on 127.0.0.1
through the host network. Jobs do not inherit gitlab-ci-local's environment there:
:func:`job_variables` passes them the hermetic uv settings (dead proxies, ``UV_DEFAULT_INDEX``,
no Python downloads) as ``--variable``. The project is copied into a volume (no
``.gitlab-ci-local/builds/<job>`` on the host); caches are directories in
``.gitlab-ci-local/cache/<key>``, copied in and out of the containers. gitlab-ci-local would
merge a saved cache into the old directory; podman-gcl replaces the key's directory instead, and
keeps it when the job left no file to cache, as GitLab's runner does. gitlab-ci-local ignores
``fallback_keys`` (the generated pipeline uses none).

Without ``images=``: the shell executor (``--force-shell-executor --shell-isolation``), jobs in
``.gitlab-ci-local/builds/<job>`` on the host, ``image:`` ignored; PATH holds the installed
CPython versions' own ``bin`` directories (never pyenv shims), so uv finds ``python3.X`` there as
it would in the image. No test uses it today: containers show everything the shell did.

``rules:changes``, were a pipeline to use them: gitlab-ci-local evaluates them as ``git diff
--name-only origin/<default branch>``; ``origin/main`` is set to the commit of the previous run
(:meth:`Harness.pushed`), so each run compares with the previous push, as GitLab does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.images import PODMAN_GCL, Images
from tests.support.projects import copy_project, hermetic_env, lock
from tests.support.pyindex import LoopbackIndex, Request
from tests.support.universe import Release, build_release, build_universe
from uvci import __version__
from uvci.util.uvproc import cmd_output, run_uv

REPO = Path(__file__).resolve().parents[2]
NODE_TOOLS = REPO / ".tools" / "node_modules"
TOOL_WHEELS = REPO / ".tools" / "wheelhouse"  # uvci's runtime dependency wheels (bootstrap-tools)
CACHE_DIR = Path(".gitlab-ci-local") / "cache"
ORIGIN = "https://gitlab.invalid/uvci-tests/project.git"  # never contacted: a ref to compare with
# uvci and its runtime dependencies, as served to `uvx --from uvci==...` in the jobs
TOOL_PREFIXES = (
    "uvci-",
    "packaging-",
    "rich-",
    "ruamel",
    "pygments-",
    "markdown",
    "mdurl-",
    "tomli-",
)


# gitlab-ci-local's docker executor on podman (see the module docstring)
DOCKER_ARGS = (
    f"--container-executable={PODMAN_GCL}",
    "--pull-policy=if-not-present",
    "--network=host",
)
# what jobs in containers get from the hermetic env (never the host's UV_CACHE_DIR or PATH)
JOB_VARIABLES = (
    "UV_DEFAULT_INDEX",
    "UV_PYTHON_DOWNLOADS",
    "UV_PYTHON_PREFERENCE",
    "UV_NO_PROGRESS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


def job_variables(index_url: str) -> tuple[str, ...]:
    """``NAME=value`` of the hermetic uv settings, for jobs that do not inherit the env."""
    env = hermetic_env(Path("/nonexistent"), base={}, index_url=index_url)
    return tuple(f"{name}={env[name]}" for name in JOB_VARIABLES)


def skip_reason(pythons: dict[str, Path], wanted: Sequence[str]) -> str | None:
    """Why the pipeline tests cannot run here, or None."""
    if gitlab_ci_local() is None:
        return "gitlab-ci-local not installed: run `PATH=$(bash scripts/bootstrap-tools)`"
    if not all(p in pythons for p in wanted):
        return f"needs CPython {' and '.join(wanted)} installed (found {sorted(pythons)})"
    if real_uv_dir() is None:
        return "no uv binary found outside pyenv shims"
    if not any(TOOL_WHEELS.glob("rich-*.whl")):
        return f"{TOOL_WHEELS} has no runtime wheels of uvci: run scripts/bootstrap-tools"
    return None


def index_with_uvci(root: Path) -> Path:
    """The universe, uvci's runtime dependency wheels, and a uvci wheel built from this tree.

    The wheel is built here, not taken from .tools/wheelhouse, so the jobs run the code under
    test; ``uv build --offline`` needs the uv_build backend in uv's own cache (skip otherwise).
    """
    build_universe(root)
    for wheel in TOOL_WHEELS.glob("*.whl"):
        if not wheel.name.startswith("uvci-"):
            shutil.copy2(wheel, root / wheel.name)
    env = {k: v for k, v in hermetic_env(root / ".unused").items() if k != "UV_CACHE_DIR"}
    argv = ["build", "--wheel", "--offline", "--out-dir", str(root), str(REPO)]
    rc, _out, err = run_uv(argv, env=env, timeout=120)
    if rc != 0:
        pytest.skip(f"cannot build the uvci wheel offline (uv_build not in uv's cache?): {err}")
    return root


def generate(project: Path, uv_cache: Path, *args: str) -> None:
    """``uvci generate PROJECT ARGS`` (the jobs run this tree's version) in a subprocess."""
    argv = [sys.executable, "-m", "uvci", "generate", str(project), *args]
    argv += ["--uvci-spec", f"uvci=={__version__}"]
    rc, _out, err = cmd_output(argv, env=hermetic_env(uv_cache), timeout=120)
    assert rc == 0, err
    print(err, file=sys.stderr)  # its notes, shown with a failing test


def real_uv_dir() -> Path | None:
    """The directory of the real ``uv`` binary (pyenv's shim resolved), or None."""
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("uv", path=entry) if "shims" not in entry else None
        if found:
            return Path(found).resolve().parent
    rc, out, _ = cmd_output(["pyenv", "which", "uv"])
    return Path(out.strip()).resolve().parent if rc == 0 and out.strip() else None


def gitlab_ci_local() -> Path | None:
    tool = NODE_TOOLS / ".bin" / "gitlab-ci-local"
    return tool if tool.exists() and (NODE_TOOLS / "node" / "bin" / "node").exists() else None


def job_path(pythons: dict[str, Path], uv_dir: Path) -> str:
    bins = [str(NODE_TOOLS / "node" / "bin"), str(NODE_TOOLS / ".bin"), str(uv_dir)]
    bins += [str(exe.parent) for exe in pythons.values()]
    return os.pathsep.join([*dict.fromkeys(bins), "/usr/local/bin", "/usr/bin", "/bin"])


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file under ``directory``."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(directory))] = (stat.st_size, stat.st_mtime_ns)
    return out


def _is_tool(request: Request) -> bool:
    if request.filename:
        return request.filename.startswith(TOOL_PREFIXES)
    page = request.path.rstrip("/").rsplit("/", 1)[-1].replace("_", "-") + "-"
    return page.startswith(TOOL_PREFIXES)


def bump_package(harness: Harness, release: Release, uv_cache: Path) -> None:
    """Serve ``release``, relock the project upgrading only it, and commit (a new uv.lock)."""
    build_release(harness.index.catalog.directory, release)
    rc, _out, err = run_uv(["lock", "--upgrade-package", release.name], cwd=harness.project,
                          env=hermetic_env(uv_cache), timeout=120)  # fmt: skip
    assert rc == 0, err
    harness.commit(f"bump {release.name}")


_COVERAGE = r"(?: \S+% coverage)?"  # a job with `coverage:` gets its number in the summary


@dataclass(frozen=True)
class Run:
    rc: int
    output: str
    requests: tuple[Request, ...]
    cache_before: dict[str, tuple[int, int]]
    cache_after: dict[str, tuple[int, int]]
    logs: dict[str, str]  # job log by gitlab-ci-local's file name

    def file_requests(self) -> Counter[str]:
        return Counter(r.filename for r in self.requests if r.filename and r.method == "GET")

    def project_files(self) -> dict[str, int]:
        """Downloads of the project's dependencies (not uvci's own wheels), by file."""
        return {f: n for f, n in self.file_requests().items() if not f.startswith(TOOL_PREFIXES)}

    def tool_files(self) -> dict[str, int]:
        return {f: n for f, n in self.file_requests().items() if f.startswith(TOOL_PREFIXES)}

    def tool_requests(self) -> list[str]:
        """Every request for uvci or its dependencies: their files and their index pages."""
        return [r.path for r in self.requests if _is_tool(r)]

    def log(self, prefix: str) -> str:
        return "\n".join(
            text for name, text in sorted(self.logs.items()) if name.startswith(prefix)
        )

    def cell_log(self, python: str, job: str = "uvci-test") -> str:
        """The output lines of one matrix cell (``uvci-test: [3.12] > ...``)."""
        return "\n".join(line for line in self.output.splitlines() if f"{job}: [{python}]" in line)

    def ran(self, job: str) -> bool:
        """Whether ``job`` (or a cell of it) ran in this pipeline."""
        return any(name == job or name.startswith(f"{job}: ") for name in self.jobs())

    def jobs(self) -> list[str]:
        return [*self.passed(), *self.failed()]

    def passed(self) -> list[str]:
        return re.findall(rf"^ PASS \s*(.+?){_COVERAGE}\s*$", self.output, re.MULTILINE)

    def failed(self) -> list[str]:
        return re.findall(rf"^ FAIL \s*(.+?){_COVERAGE}\s*$", self.output, re.MULTILINE)

    def coverage(self, job: str) -> str | None:
        """What gitlab-ci-local's summary shows for ``job`` from its ``coverage:`` regex."""
        found = re.search(rf"^ (?:PASS|FAIL) \s*{re.escape(job)} (\S+)% coverage\s*$",
                          self.output, re.MULTILINE)  # fmt: skip
        return found.group(1) if found else None


class Harness:
    """``images=None``: shell executor (jobs run on the host); ``images=`` the
    ``container_images`` fixture: docker executor on podman (jobs run in their ``image:``)."""

    def __init__(self, project: Path, index: LoopbackIndex, pythons: dict[str, Path], tool: Path,
                 host_cache: Path, uv_dir: Path, images: Images | None = None) -> None:  # fmt: skip
        self.project = project
        self.index = index
        self.tool = tool
        self.images = images
        env = hermetic_env(host_cache, index_url=index.url)  # uvx in jobs: the same index
        env["PATH"] = job_path(pythons, uv_dir)
        env["NO_COLOR"] = "1"
        env["FORCE_COLOR"] = "0"
        self.env = env if images is None else images.env(env)
        self.seconds: list[float] = []  # wall time of each run()

    @property
    def cache(self) -> Path:
        return self.project / CACHE_DIR

    def git(self, *args: str) -> None:
        ident = ["-c", "user.email=tests@uvci.invalid", "-c", "user.name=uvci tests"]
        subprocess.run(["git", *ident, *args], cwd=self.project, check=True, capture_output=True)

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def init_repo(self) -> None:
        """A repository on ``main`` whose ``origin/main`` is an empty first commit."""
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", ORIGIN)
        self.git("commit", "-q", "--allow-empty", "-m", "empty")
        self.pushed()
        self.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")

    def pushed(self) -> None:
        """HEAD becomes the previous push: the next run's ``rules:changes`` compare with it."""
        self.git("update-ref", "refs/remotes/origin/main", "HEAD")

    def run(self, *variables: str) -> Run:
        """Run the pipeline (``variables``: ``NAME=value`` for every job, e.g. a schedule's
        ``CI_PIPELINE_SOURCE=schedule``); then HEAD counts as pushed."""
        self.cache.mkdir(parents=True, exist_ok=True)
        before = snapshot(self.cache)
        self.index.reset()
        output_dir = self.project / ".gitlab-ci-local" / "output"
        shutil.rmtree(output_dir, ignore_errors=True)  # only this run's job logs
        if self.images is None:
            argv = [str(self.tool), "--force-shell-executor", "--shell-isolation"]
        else:
            argv = [str(self.tool), *DOCKER_ARGS]
            variables = (*job_variables(self.index.url), *variables)
        argv += ["--color=false", *(f"--variable={variable}" for variable in variables)]
        started = time.monotonic()
        rc, out, err = cmd_output(argv, cwd=self.project, env=self.env, timeout=900)
        self.seconds.append(time.monotonic() - started)
        requests = tuple(self.index.requests)
        self.pushed()
        logs = {p.name: p.read_text(errors="replace") for p in sorted(output_dir.glob("*.log"))}
        return Run(rc, out + err, requests, before, snapshot(self.cache), logs)


@contextmanager
def generated_in_containers(
    tmp_path: Path,
    images: Images,
    name: str,
    pythons: Sequence[str],
    *generate_args: str,
    prepare: Callable[[Path, Path], None] | None = None,
) -> Iterator[Harness]:
    """The test project ``name`` in a git repository, locked against a loopback index that
    also serves uvci, with the pipeline ``uvci generate --python PYTHONS ARGS`` writes,
    committed; the :class:`Harness` runs it in containers. ``prepare(project, index_dir)``
    edits the project (and adds dists to the index) before it is locked. Skips without
    gitlab-ci-local or an image for one of ``pythons``."""
    tool = gitlab_ci_local()
    missing = [p for p in pythons if p not in images.python]
    if tool is None or missing:
        pytest.skip(f"needs gitlab-ci-local (scripts/bootstrap-tools) and CPython {missing}")
    index_dir = index_with_uvci(tmp_path / "index")
    with LoopbackIndex(index_dir) as index:
        project = copy_project(name, tmp_path / "project", index.url)
        uv_dir = real_uv_dir() or Path("/usr/local/bin")
        harness = Harness(project, index, {}, tool, tmp_path / "host-cache", uv_dir,
                          images=images)  # fmt: skip
        harness.init_repo()  # before the lock: a project versioned from git needs a commit
        if prepare is not None:
            prepare(project, index_dir)
        lock(project, hermetic_env(tmp_path / "uv-cache"))
        generate(project, tmp_path / "uv-cache", "--python", ",".join(pythons), *generate_args)
        harness.commit("the project with its generated pipeline")
        yield harness
