"""Find a CPython interpreter for each cell, without downloading one.

Looked for, in order: pyenv's versions directories (``$PYENV_ROOT`` or ``~/.pyenv``; pyenv's shims
make ``uv python find 3.X`` fail for versions that are not selected), uv's managed Pythons
(``uv python dir``), then ``python3.X`` on PATH (shim directories skipped). Every candidate is
run once to check that it is CPython of the right minor version.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from uvci.model.project import minor_of
from uvci.util.atomicfile import write_atomic
from uvci.util.uvproc import cmd_output, run_uv

_PROBE = (
    "import platform, sys; "
    "print(platform.python_implementation(), '%d.%d.%d' % sys.version_info[:3], "
    "bool(getattr(sys, '_is_gil_enabled', lambda: True)()))"
)


@dataclass(frozen=True)
class Interpreter:
    python: str  # the cell's minor version, "3.12"
    path: Path
    version: str  # the full version, "3.12.1"


@dataclass(frozen=True)
class Missing:
    python: str
    reason: str


def _patch_key(path: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path.name))


def pyenv_candidates(minor: str) -> Iterator[Path]:
    env_root = os.environ.get("PYENV_ROOT")
    roots = [Path(env_root)] if env_root else []
    for root in dict.fromkeys([*roots, Path.home() / ".pyenv"]):
        versions = root / "versions"
        if not versions.is_dir():
            continue
        pattern = re.compile(re.escape(minor) + r"\.\d+")
        found = [d for d in versions.iterdir() if pattern.fullmatch(d.name)]
        for directory in sorted(found, key=_patch_key, reverse=True):
            yield directory / "bin" / "python"


def uv_managed_candidates(minor: str, managed_dir: Path | None) -> Iterator[Path]:
    if managed_dir is None or not managed_dir.is_dir():
        return
    pattern = re.compile(rf"cpython-{re.escape(minor)}\.\d+-[^+]*")  # no +freethreaded builds
    found = [d for d in managed_dir.iterdir() if pattern.fullmatch(d.name)]
    for directory in sorted(
        found, key=lambda d: _patch_key(Path(d.name.split("-")[1])), reverse=True
    ):
        yield directory / "bin" / "python3"


def path_candidates(minor: str) -> Iterator[Path]:
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or "shims" in Path(directory).parts:
            continue
        exe = shutil.which(f"python{minor}", path=directory)
        if exe:
            yield Path(exe)


def uv_python_dir() -> Path | None:
    rc, out, _ = run_uv(["python", "dir"], timeout=30)
    return Path(out.strip()) if rc == 0 and out.strip() else None


def probe(path: Path, minor: str) -> Interpreter | None:
    """Run ``path``; an :class:`Interpreter` when it is a GIL-enabled CPython ``minor``."""
    if not path.is_file():
        return None
    rc, out, _ = cmd_output([str(path), "-c", _PROBE], timeout=30)
    fields = out.split()
    if rc != 0 or len(fields) != 3 or fields[0] != "CPython" or fields[2] != "True":
        return None
    if minor_of(fields[1]) != minor:
        return None
    return Interpreter(minor, path, fields[1])


def _candidates(minor: str, managed_dir: Path | Callable[[], Path | None] | None) -> Iterator[Path]:
    """pyenv, then uv-managed (``uv python dir`` asked only when reached), then PATH."""
    yield from pyenv_candidates(minor)
    yield from uv_managed_candidates(minor, managed_dir() if callable(managed_dir) else managed_dir)
    yield from path_candidates(minor)


class ProbeCache:
    """Versions of interpreters already probed, keyed by the binary's path, mtime and size.

    An unchanged binary gives the same answer, so a warm run starts no interpreter to find
    them; a reinstalled or upgraded one (new mtime or size) is probed again.
    """

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.versions: dict[str, str] = {}
        if file is not None and file.is_file():
            with contextlib.suppress(OSError, ValueError):
                self.versions = dict(json.loads(file.read_text(encoding="utf-8")))

    @staticmethod
    def key(path: Path) -> str | None:
        try:
            real = path.resolve()
            stat = real.stat()
        except OSError:
            return None
        return f"{real}:{stat.st_mtime_ns}:{stat.st_size}"

    def probe(self, path: Path, minor: str) -> Interpreter | None:
        key = self.key(path)
        version = self.versions.get(key) if key else None
        if version is not None and path.is_file():
            return Interpreter(minor, path, version) if version.startswith(f"{minor}.") else None
        found = probe(path, minor)
        if found is not None and key is not None:
            self.versions[key] = found.version
        return found

    def save(self) -> None:
        if self.file is None:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.file, json.dumps(self.versions, indent=1, sort_keys=True))


def find_interpreter(
    minor: str,
    managed_dir: Path | Callable[[], Path | None] | None,
    cache: ProbeCache | None = None,
) -> Interpreter | Missing:
    """The first candidate that probes as CPython ``minor``, else why none was found."""
    looked: list[str] = []
    check = cache.probe if cache is not None else probe
    for path in _candidates(minor, managed_dir):
        looked.append(str(path))
        found = check(path, minor)
        if found is not None:
            return found
    tried = f" (tried {', '.join(looked[:2])})" if looked else ""
    return Missing(minor, f"no Python {minor} installed{tried}; `uv python install {minor}`")


def find_interpreters(
    pythons: Sequence[str], cache_file: Path | None = None
) -> dict[str, Interpreter | Missing]:
    """Every cell's interpreter, probed in parallel; ``uv python dir`` asked only if needed."""
    managed = functools.lru_cache(maxsize=1)(uv_python_dir)
    cache = ProbeCache(cache_file)
    with ThreadPoolExecutor(max_workers=max(1, len(pythons))) as pool:
        found = dict(
            zip(
                pythons,
                pool.map(lambda m: find_interpreter(m, managed, cache), pythons),
                strict=True,
            )
        )
    with contextlib.suppress(OSError):  # a read-only project still runs, only slower
        cache.save()
    return found
