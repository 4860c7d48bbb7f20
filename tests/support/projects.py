"""Test projects (tests/data/projects) pointed at a loopback index, and a hermetic uv environment.

The index is written into the copied project's root ``pyproject.toml`` as::

    [[tool.uv.index]]
    name = "loopback"
    url = "http://127.0.0.1:PORT/simple"
    default = true

so the project carries its index wherever it runs (``uv lock``, ``uv sync --locked``, jobs under
gitlab-ci-local) without depending on environment variables. ``hermetic_env`` deliberately does
NOT set ``UV_DEFAULT_INDEX``: uv lets that variable override the project's default index, so a
lock made against one loopback index would fail ``--locked`` under an environment naming another.
Commands run outside a project pass ``--default-index <url>`` (or ``index_url=``) themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from tests.support.dists import BACKEND_SOURCE
from tests.support.pythons import interpreter_path
from uvci.util.uvproc import cmd_output, run_uv

PROJECTS_DIR = Path(__file__).resolve().parents[1] / "data" / "projects"
PROJECT_NAMES = ("compiled", "extras-groups", "forked", "pure", "sdist-only", "workspace")
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: anything not on loopback fails at once

# What `uv sync --locked` (default selection: project deps + default groups) installs, per
# Python, on x86_64 glibc 2.36. Names are PEP 503 normalized; local projects are "local".
_PURE_CHAIN = {"alpha": "1.1", "beta": "2.0", "gamma": "1.1"}
EXPECTED_SYNC: dict[str, dict[str, dict[str, str]]] = {
    "pure": {
        "3.10": {**_PURE_CHAIN, "backport": "1.0", "pure-app": "local"},
        "3.11": {**_PURE_CHAIN, "pure-app": "local"},
        "3.12": {**_PURE_CHAIN, "pure-app": "local"},
        "3.13": {**_PURE_CHAIN, "pure-app": "local"},
    },
    "forked": {
        "3.10": {"forky": "1.5", "tomlish": "1.0", "gamma": "1.1"},
        "3.11": {"forky": "1.5", "gamma": "1.1"},
        "3.12": {"forky": "2.1", "beta": "2.0", "gamma": "1.1"},
        "3.13": {"forky": "2.1", "beta": "2.0", "gamma": "1.1"},
    },
    "extras-groups": {
        py: {"extras-groups": "local", "tint": "1.0", **_PURE_CHAIN}
        | ({"backport": "1.0"} if py == "3.10" else {})
        for py in ("3.10", "3.11", "3.12", "3.13")
    },
    "sdist-only": {
        py: {"sdist-only": "local", "srconly": "1.0", "newglibc": "2.0", "gamma": "1.1"}
        for py in ("3.10", "3.11", "3.12", "3.13")
    },
    "compiled": {
        py: {"compiled-app": "local", "fastcalc": "1.0", "stablecalc": "1.0", "glibcpick": "1.0"}
        for py in ("3.10", "3.11", "3.12", "3.13")
    },
    "workspace": {
        py: {"ws-root": "local", "ws-app": "local", "ws-lib": "local", **_PURE_CHAIN}
        | ({"backport": "1.0"} if py == "3.10" else {})
        for py in ("3.10", "3.11", "3.12", "3.13")
    },
}


def hermetic_env(
    cache_dir: Path,
    base: Mapping[str, str] | None = None,
    index_url: str | None = None,
) -> dict[str, str]:
    """``base`` (default ``os.environ``) without uv/pip/venv settings, plus a hermetic uv setup.

    Private uv cache, no Python downloads, system interpreters only (PATH without pyenv shims, with
    every installed CPython's own bin), and every proxy variable set
    to a dead loopback port with ``NO_PROXY`` = loopback: a request to any public host fails at
    once while the loopback index works. ``index_url`` sets ``UV_DEFAULT_INDEX`` (see above).
    """
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith(("UV_", "PIP_"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX")
    }
    env.update(
        UV_CACHE_DIR=str(cache_dir),
        UV_PYTHON_DOWNLOADS="never",
        UV_PYTHON_PREFERENCE="only-system",
        UV_NO_PROGRESS="1",
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        ALL_PROXY=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    env["PATH"] = interpreter_path(env.get("PATH", ""))
    if index_url is not None:
        env["UV_DEFAULT_INDEX"] = index_url
    for key in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        env[key] = env[key.upper()]
    return env


def index_table(index_url: str) -> str:
    return f'\n[[tool.uv.index]]\nname = "loopback"\nurl = "{index_url}"\ndefault = true\n'


def add_backend(project: Path) -> list[Path]:
    """Write tests/support/backend.py beside every pyproject.toml that builds with it.

    The projects under tests/data/projects name ``build-backend = "backend"`` with
    ``backend-path = ["."]`` but do not carry the file: one source, copied where it is used.
    """
    written = []
    for pyproject in project.rglob("pyproject.toml"):
        if 'build-backend = "backend"' in pyproject.read_text(encoding="utf-8"):
            target = pyproject.parent / "backend.py"
            target.write_text(BACKEND_SOURCE, encoding="utf-8")
            written.append(target)
    return written


def copy_project(name: str, dest: Path, index_url: str) -> Path:
    """Copy tests/data/projects/<name> to ``dest`` (must not exist) and point it at the index."""
    source = PROJECTS_DIR / name
    if not (source / "pyproject.toml").is_file():
        raise ValueError(f"no test project {name!r} in {PROJECTS_DIR}")
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".venv", "uv.lock"))
    add_backend(dest)
    pyproject = dest / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + index_table(index_url), encoding="utf-8"
    )
    return dest


def lock(project: Path, env: Mapping[str, str]) -> Path:
    """Run real ``uv lock`` in ``project``; raises AssertionError with uv's stderr on failure."""
    rc, out, err = run_uv(["lock"], cwd=project, env=env, timeout=120)
    if rc != 0:
        raise AssertionError(f"uv lock failed in {project} (rc {rc}):\n{out}{err}")
    return project / "uv.lock"


def sync(
    project: Path,
    python: Path,
    env: Mapping[str, str],
    args: tuple[str, ...] = ("--locked",),
    venv: Path | None = None,
) -> Path:
    """``uv sync <args> --python <python>`` into ``venv`` (default ``project/.venvs/<name>``).

    Uses ``UV_PROJECT_ENVIRONMENT`` so several Pythons can be synced side by side; returns the
    venv. Raises AssertionError with uv's output on failure.
    """
    venv = venv or project / ".venvs" / python.parent.parent.name
    run_env = {**env, "UV_PROJECT_ENVIRONMENT": str(venv)}
    rc, out, err = run_uv(
        ["sync", *args, "--python", str(python)], cwd=project, env=run_env, timeout=300
    )
    if rc != 0:
        raise AssertionError(f"uv sync {' '.join(args)} failed in {project} (rc {rc}):\n{out}{err}")
    return venv


def git_init(project: Path) -> None:
    """Make ``project`` a git repository with one commit (gitlab-ci-local needs one)."""
    ident = ["-c", "user.email=tests@uvci.invalid", "-c", "user.name=uvci tests"]
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        [*ident, "commit", "-q", "-m", "test project"],
    ):
        rc, out, err = cmd_output(["git", *args], cwd=project)
        if rc != 0:
            raise AssertionError(f"git {' '.join(args)} failed in {project}: {out}{err}")
