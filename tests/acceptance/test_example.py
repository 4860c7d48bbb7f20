"""The example project in the README: its committed pipeline is current and doctor finds nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from uvci.util.uvproc import uv_version

EXAMPLE = Path(__file__).parents[2] / "examples" / "matrix-demo"
PIPELINE = EXAMPLE / ".gitlab" / "ci" / "uvci.yml"


def uvci(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uvci", *args], capture_output=True, text=True, check=False
    )


def test_doctor_finds_nothing_in_the_example() -> None:
    result = uvci("doctor", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout


def test_committed_pipeline_is_what_generate_writes() -> None:
    committed = PIPELINE.read_text(encoding="utf-8")
    image = re.search(r"ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)-", committed)
    assert image is not None
    if image.group(1) != uv_version():
        pytest.skip(f"the example was generated with uv {image.group(1)}, not {uv_version()}")
    result = uvci("generate", str(EXAMPLE), "--python", "3.11,3.12,3.13,3.14", "--stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == committed, "regenerate it: see the README's `uvci generate` example"
