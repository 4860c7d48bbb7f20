"""Pipelines committed to this repository (uvci's own, the example's): read them, and skip a
comparison with `uvci generate` when they were generated with another uv than this machine's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from uvci.util.uvproc import uv_version


def uvci(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "uvci", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)


def committed_pipeline(path: Path) -> str:
    """The committed file's text; the test is skipped when its images name another uv."""
    committed = path.read_text(encoding="utf-8")
    image = re.search(r"ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)-", committed)
    assert image is not None, f"{path} names no uv image"
    if image.group(1) != uv_version():
        pytest.skip(f"{path.name} was generated with uv {image.group(1)}, not {uv_version()}")
    return committed
