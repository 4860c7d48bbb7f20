"""The example project in the README: its committed pipeline is current and doctor finds nothing."""

from __future__ import annotations

from pathlib import Path

from tests.support.committed import committed_pipeline, uvci

EXAMPLE = Path(__file__).parents[2] / "examples" / "matrix-demo"
PIPELINE = EXAMPLE / ".gitlab" / "ci" / "uvci.yml"


def test_doctor_finds_nothing_in_the_example() -> None:
    result = uvci("doctor", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout


def test_committed_pipeline_is_what_generate_writes() -> None:
    committed = committed_pipeline(PIPELINE)
    result = uvci("generate", str(EXAMPLE), "--python", "3.11,3.12,3.13,3.14", "--stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == committed, "regenerate it: see the README's `uvci generate` example"
