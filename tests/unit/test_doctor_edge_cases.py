"""Odd but loadable pipelines give a report (exit 0/1), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.cli import main

ODD = [
    "",
    "# only a comment\n",
    "test:\n  script:\n",
    "test:\n  script: null\n  cache: null\n  variables: null\n  image: {}\n",
    "1:\n  script: [uv sync]\n",
    "test:\n  script: [[uv sync, [uv run pytest]]]\n  parallel: 3\n",
    "include: null\nextends: x\n",
    ".c: {key: k, paths: [.uv]}\ntest:\n  cache: !reference [.c]\n  script: [uv sync]\n",
    "test:\n  script: uv sync\n  cache: [null, {paths: null}, {key: {files: null}}]\n",
    "variables:\n  A: {value: x, description: y}\n  B: 1\n  C: true\n"
    "test:\n  variables: [1, 2]\n  script: ['uv sync \"unterminated']\n",
    "test:\n  extends: null\n  inherit: {default: false, variables: [A]}\n  script: [uv run]\n",
    "test:\n  parallel:\n    matrix: [{A: null}, 5, {B: [1, 2]}]\n  script: [uv sync]\n",
    "default: 5\nworkflow: {rules: []}\nstages: [a]\n",
    "test:\n  image: python:$[[ inputs.py ]]\n  script: ['uv sync --python $[[ inputs.py ]]']\n",
    "a: !!binary aGVsbG8=\n",
    "test:\n  script: [uv pip install -r, uv, uv --cache-dir]\n",
]


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
@pytest.mark.parametrize("mode", ["--format=json", "--dry-run"])
def test_odd_pipeline_gives_a_report(
    tmp_path: Path, text: str, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(text)
    assert main(["doctor", str(tmp_path), mode]) in (0, 1)
    assert capsys.readouterr().out
