"""Cache paths as GitLab sees them: relative to ``$CI_PROJECT_DIR``, or outside it."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

_PROJECT_DIR = re.compile(r"^\$(?:\{CI_PROJECT_DIR\}|CI_PROJECT_DIR)(?=/|$)")
VENV_NAMES = frozenset({".venv", "venv", ".env", "env", ".tox", ".nox"})
OTHER_TOOL_CACHES = ("pip", "pypoetry", "poetry", "pipenv", "pdm")
_UV_WORD = re.compile(r"(?:^|[/._-])uv(?:[/._-]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class CacheDir:
    """uv's cache directory in a job: ``value`` None means uv's default (``~/.cache/uv``);
    ``known`` False means it comes from a variable set outside the YAML."""

    value: str | None
    known: bool

    def in_project(self) -> bool | None:
        if not self.known:
            return None
        return False if self.value is None else in_project(self.value)


def normalize(path: str) -> str:
    """``$CI_PROJECT_DIR/a/./b/`` -> ``a/b``; absolute and ``~`` paths stay absolute."""
    path = _PROJECT_DIR.sub(".", path.strip())
    path = posixpath.normpath(path) if path else "."
    return path


def in_project(path: str) -> bool | None:
    """True inside the project dir, False outside, None when a variable hides it."""
    path = normalize(path)
    if path.startswith(("/", "~", "$HOME", "${HOME}")) or path.startswith(".."):
        return False
    if "$" in path:
        return None
    return True


def covers(cache_path: str, target: str) -> bool:
    """Whether caching ``cache_path`` saves ``target`` (same dir, or a parent of it)."""
    cached, wanted = normalize(cache_path), normalize(target)
    if cached in (".", "*", "**"):
        return in_project(wanted) is True
    return wanted == cached or wanted.startswith(cached.rstrip("/") + "/")


def is_venv(path: str) -> bool:
    return posixpath.basename(normalize(path)) in VENV_NAMES


def other_tool_cache(path: str) -> str | None:
    """``pip``/``poetry``... when ``path`` is another tool's cache, else None."""
    parts = normalize(path).lower().replace("-", "/").split("/")
    return next((tool for tool in OTHER_TOOL_CACHES if tool in parts), None)


def meant_for_uv(path: str) -> bool:
    """Whether ``path`` is plainly a uv cache (``.cache/uv``, ``.uv-cache``) inside the
    project, whatever uv is told: the cache the job has, judged as a uv cache."""
    return in_project(path) is True and not is_venv(path) and bool(_UV_WORD.search(normalize(path)))
