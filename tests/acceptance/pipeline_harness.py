"""Run a generated pipeline with gitlab-ci-local on a test project served by a loopback index.

gitlab-ci-local runs each job as a shell (``--force-shell-executor --shell-isolation``) in
``.gitlab-ci-local/builds/<job>``, ignores ``image:``, and keeps caches as plain directories in
``.gitlab-ci-local/cache/<name>``: ``<i>_<prefix>-<sha1(sha1(files))>`` for ``key: files:``
(the i-th cache entry of the job), the key itself for a literal key. It ignores
``fallback_keys``; :meth:`Harness.emulate_fallback` does what GitLab would do.

The jobs pick their interpreter the way the generated pipeline says (``UV_PYTHON: $PYTHON``,
``uv venv --python $PYTHON``): PATH holds the installed CPython versions' own ``bin``
directories (never pyenv shims), so uv finds ``python3.X`` there as it would in the image.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.support.projects import hermetic_env
from tests.support.pyindex import LoopbackIndex, Request
from uvci.uvproc import cmd_output

REPO = Path(__file__).resolve().parents[2]
NODE_TOOLS = REPO / ".tools" / "node_modules"
CACHE_DIR = Path(".gitlab-ci-local") / "cache"


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


def files_key(index: int, prefix: str, lock: Path) -> str:
    """gitlab-ci-local's directory name for ``key: {files: [uv.lock], prefix: ...}``."""
    inner = hashlib.sha1(lock.read_bytes()).hexdigest()
    return f"{index}_{prefix}-{hashlib.sha1(inner.encode()).hexdigest()}"


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file under ``directory``."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(directory))] = (stat.st_size, stat.st_mtime_ns)
    return out


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

    def log(self, prefix: str) -> str:
        return "\n".join(
            text for name, text in sorted(self.logs.items()) if name.startswith(prefix)
        )

    def passed(self) -> list[str]:
        return re.findall(r"^ PASS \s*(.+?)\s*$", self.output, re.MULTILINE)

    def failed(self) -> list[str]:
        return re.findall(r"^ FAIL \s*(.+?)\s*$", self.output, re.MULTILINE)


class Harness:
    def __init__(self, project: Path, index: LoopbackIndex, pythons: dict[str, Path], tool: Path,
                 host_cache: Path, uv_dir: Path) -> None:  # fmt: skip
        self.project = project
        self.index = index
        self.tool = tool
        env = hermetic_env(host_cache, index_url=index.url)  # uvx in jobs: the same index
        env["PATH"] = job_path(pythons, uv_dir)
        env["NO_COLOR"] = "1"
        env["FORCE_COLOR"] = "0"
        self.env = env

    @property
    def cache(self) -> Path:
        return self.project / CACHE_DIR

    def git(self, *args: str) -> None:
        ident = ["-c", "user.email=tests@uvci.invalid", "-c", "user.name=uvci tests"]
        subprocess.run(["git", *ident, *args], cwd=self.project, check=True, capture_output=True)

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def emulate_fallback(self, exact: str, fallback: str) -> bool:
        """What GitLab does for ``fallback_keys``: exact key missing -> restore the fallback."""
        if (self.cache / exact).exists() or not (self.cache / fallback).exists():
            return False
        shutil.copytree(self.cache / fallback, self.cache / exact, symlinks=True)
        return True

    def run(self) -> Run:
        self.cache.mkdir(parents=True, exist_ok=True)
        before = snapshot(self.cache)
        self.index.reset()
        argv = [str(self.tool), "--force-shell-executor", "--shell-isolation", "--color=false"]
        rc, out, err = cmd_output(argv, cwd=self.project, env=self.env, timeout=900)
        requests = tuple(self.index.requests)
        output_dir = self.project / ".gitlab-ci-local" / "output"
        logs = {p.name: p.read_text(errors="replace") for p in sorted(output_dir.glob("*.log"))}
        return Run(rc, out + err, requests, before, snapshot(self.cache), logs)
