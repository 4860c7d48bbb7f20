"""The example project in the README: its committed pipeline is current and doctor finds nothing."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.support.committed import committed_pipeline, uvci
from uvci.gitlab.generate.uvcispec import HASHED_URL

EXAMPLE = Path(__file__).parents[2] / "examples" / "matrix-demo"
PIPELINE = EXAMPLE / ".gitlab" / "ci" / "uvci.yml"


def test_doctor_finds_nothing_in_the_example() -> None:
    result = uvci("doctor", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout


def regenerate_args() -> list[str]:
    """The generate options recorded in the committed pipeline's header."""
    found = re.search(r"^#   uvci generate (.*)$", PIPELINE.read_text(), re.M)
    assert found, "the header names the command that regenerates it (uvci, never uvx a name)"
    return shlex.split(found.group(1))


def test_the_example_runs_uvci_pinned_by_hash() -> None:
    args = regenerate_args()
    assert args[:2] == ["--python", "3.11,3.12,3.13,3.14"]
    spec = args[args.index("--uvci-spec") + 1]
    assert HASHED_URL.fullmatch(spec), spec
    assert "uvx" not in PIPELINE.read_text()


def test_committed_pipeline_is_what_generate_writes() -> None:
    committed = committed_pipeline(PIPELINE)
    result = uvci("generate", str(EXAMPLE), *regenerate_args(), "--stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == committed, "regenerate it: see the README's `uvci generate` example"
