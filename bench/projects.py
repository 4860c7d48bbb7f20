"""The benchmark projects, and how their locks are pointed at the loopback proxy.

Each project lives in ``bench/projects/<name>/`` as a ``pyproject.toml`` and a ``uv.lock`` locked
against PyPI (so the committed lock reads like any user's). A run *materializes* a copy whose
lock has PyPI's URLs rewritten to the proxy's (``https://pypi.org/simple`` -> ``<proxy>/simple``,
``https://files.pythonhosted.org/`` -> ``<proxy>/files/``), and runs uv with
``UV_DEFAULT_INDEX=<proxy>/simple`` so that ``uv sync --locked`` accepts that lock; ``uvci
prefetch`` reads the same rewritten URLs. Relocking (``lock`` and the ``bump`` scenario) runs
``uv lock`` through the proxy and maps the URLs back. ``exclude-newer`` in each pyproject
keeps relocks reproducible.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.proxy import PYPI_FILES, PYPI_SIMPLE
from uvci.util.uvproc import run_uv

PROJECTS_DIR = Path(__file__).resolve().parent / "projects"


@dataclass(frozen=True)
class Project:
    """A benchmark project: the pin its bump scenario moves."""

    name: str
    bump_from: str
    bump_to: str

    @property
    def source(self) -> Path:
        return PROJECTS_DIR / self.name


PROJECTS = {
    "pure": Project("pure", "rich==13.9.4", "rich==14.1.0"),
    "compiled": Project("compiled", "pandas==2.2.3", "pandas==2.3.2"),
    # the seed's torch stack from PyPI (CUDA wheels): about 4 GB per cell (`uvci plan`), run
    # only when asked (--project large): hours of replays and ~8 GB through the proxy
    "large": Project("large", "pandas==2.2.3", "pandas==2.3.2"),
}
DEFAULT_PROJECTS = ("pure", "compiled")


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and why."""


def to_proxy(lock_text: str, proxy_url: str) -> str:
    """A lock's PyPI URLs rewritten to the proxy's."""
    text = lock_text.replace(PYPI_SIMPLE, f"{proxy_url}/simple")
    return text.replace(f"{PYPI_FILES}/", f"{proxy_url}/files/")


def to_pypi(lock_text: str, proxy_url: str) -> str:
    """The inverse of :func:`to_proxy`."""
    text = lock_text.replace(f"{proxy_url}/simple", PYPI_SIMPLE)
    return text.replace(f"{proxy_url}/files/", f"{PYPI_FILES}/")


def uv_env(proxy_url: str) -> dict[str, str]:
    """Settings every benchmark uv command gets on top of a clean environment."""
    return {
        "UV_DEFAULT_INDEX": f"{proxy_url}/simple",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",
        "UV_NO_PROGRESS": "1",
    }


def materialize(project: Project, proxy_url: str, dest: Path, *, bumped: bool = False) -> None:
    """Write the project (bumped or not) with its lock pointing at the proxy into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    pyproject = (project.source / "pyproject.toml").read_text()
    lock = (project.source / "uv.lock").read_text()
    (dest / "pyproject.toml").write_text(pyproject)
    (dest / "uv.lock").write_text(to_proxy(lock, proxy_url))
    if bumped:
        bump(project, dest, proxy_url)


def bump(project: Project, dest: Path, proxy_url: str) -> None:
    """Move the project's bump pin in ``dest`` and relock (other pins kept by uv's preferences)."""
    path = dest / "pyproject.toml"
    text = path.read_text()
    if f'"{project.bump_from}"' not in text:
        raise BenchError(
            f"{path}: pin {project.bump_from!r} not found; fix PROJECTS in projects.py"
        )
    path.write_text(text.replace(f'"{project.bump_from}"', f'"{project.bump_to}"'))
    relock(dest, proxy_url)


def relock(dest: Path, proxy_url: str) -> None:
    """``uv lock`` in ``dest`` through the proxy (with a throwaway cache)."""
    env = {**base_env(), **uv_env(proxy_url), "UV_CACHE_DIR": str(dest / ".lock-cache")}
    rc, _out, err = run_uv(["lock", "--directory", str(dest)], env=env, timeout=900)
    shutil.rmtree(dest / ".lock-cache", ignore_errors=True)
    if rc != 0:
        raise BenchError(f"uv lock in {dest} failed: {err.strip()[-2000:]}")


def write_canonical_lock(project: Project, proxy_url: str, workdir: Path) -> Path:
    """Lock the committed project through the proxy and store the lock with PyPI URLs."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(project.source / "pyproject.toml", workdir / "pyproject.toml")
    relock(workdir, proxy_url)
    target = project.source / "uv.lock"
    target.write_text(to_pypi((workdir / "uv.lock").read_text(), proxy_url))
    return target


def lock_hash(project_dir: Path) -> str:
    """What GitLab's ``key: files: [uv.lock]`` depends on: the lock's content."""
    return hashlib.sha256((project_dir / "uv.lock").read_bytes()).hexdigest()[:16]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def base_env() -> dict[str, str]:
    """The parent environment reduced to what a CI job would also have."""
    keep = {"PATH", "HOME", "LANG", "TMPDIR", "SSL_CERT_FILE"}
    proxies = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    return {k: v for k, v in os.environ.items() if k in keep or k.upper() in proxies}


def locked_urls_ok(project_dir: Path, proxy_url: str) -> bool:
    """Whether every registry URL in the lock points at the proxy (a sanity check)."""
    text = (project_dir / "uv.lock").read_text()
    return not re.search(r"https://(pypi\.org|files\.pythonhosted\.org)", text) and (
        proxy_url in text
    )
