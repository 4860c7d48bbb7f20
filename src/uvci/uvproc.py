"""The one wrapper for every subprocess uvci starts (uv and anything else).

Every call returns ``(returncode, stdout, stderr)``; nothing here raises on a non-zero exit.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from uvci.errors import FatalError

Result = tuple[int, str, str]


def cmd_output(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
) -> Result:
    """Run ``cmd`` and return ``(rc, out, err)``. A missing executable is rc 127."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        return 127, "", f"{cmd[0]}: not found ({exc.strerror})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return 124, out, f"{cmd[0]}: timed out after {timeout}s"
    return proc.returncode, proc.stdout, proc.stderr


def uv_executable() -> str:
    """The uv to run: ``$UVCI_UV`` if set, else ``uv`` on PATH."""
    return os.environ.get("UVCI_UV") or shutil.which("uv") or "uv"


def run_uv(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``uv ARGS``; same contract as :func:`cmd_output`."""
    return cmd_output([uv_executable(), *args], cwd=cwd, env=env, timeout=timeout)


@functools.lru_cache(maxsize=1)
def uv_version() -> str:
    """The version of the local uv, e.g. ``0.13.9``."""
    rc, out, err = run_uv(["--version"])
    match = re.search(r"uv (\d+\.\d+\.\d+\S*)", out)
    if rc != 0 or match is None:
        raise FatalError(
            f"uv not found or not working ({err.strip() or out.strip()}); "
            "install it with `pip install uv` or set UVCI_UV"
        )
    return match.group(1)
