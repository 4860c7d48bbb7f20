"""Doctor reads pipelines as GitLab does: inputs, duplicate keys, extends before !reference,
includes kept inside the project, and hostile YAML refused in one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from uvci.cli import main
from uvci.doctor.engine import check
from uvci.errors import FatalError
from uvci.gitlab.read.pipeline import read_pipeline

COMPONENT = """\
spec:
  inputs:
    job_name:
      default: unit
    python:
      default: "3.12"
    script:
      type: array
      default: ["uv run --locked pytest"]
---
.$[[ inputs.job_name ]]-base:
  image: ghcr.io/astral-sh/uv:0.9.17-python$[[ inputs.python ]]-bookworm-slim

$[[ inputs.job_name ]]:
  extends: .$[[ inputs.job_name ]]-base
  script: $[[ inputs.script ]]

$[[ inputs.job_name ]]-lint:
  extends: .$[[ inputs.job_name ]]-base
  script: [uv run --locked ruff check]
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".gitlab-ci.yml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("round_trip", [True, False])
def test_inputs_are_interpolated_in_names_keys_and_values(tmp_path: Path, round_trip: bool) -> None:
    pipeline = read_pipeline(_write(tmp_path, COMPONENT), round_trip=round_trip)
    jobs = {job.name: job for job in pipeline.jobs}
    assert set(jobs) == {"unit", "unit-lint"}
    assert jobs["unit"].image == "ghcr.io/astral-sh/uv:0.9.17-python3.12-bookworm-slim"
    assert [line.text for line in jobs["unit"].scripts] == ["uv run --locked pytest"]
    assert jobs["unit"].loc.line == 14  # the job's key as written
    assert jobs["unit"].scripts[0].loc.line == 16


def test_input_values_from_the_command_line(tmp_path: Path) -> None:
    _write(tmp_path, COMPONENT)
    report = check(tmp_path, inputs={"job_name": "it", "python": "3.11"})
    names = sorted(job.name for job in report.pipeline.jobs)
    assert names == ["it", "it-lint"]
    assert report.pipeline.jobs[0].image is not None
    assert "python3.11" in report.pipeline.jobs[0].image


def test_a_required_input_without_a_value_names_the_flag(tmp_path: Path) -> None:
    _write(tmp_path, "spec:\n  inputs:\n    name:\n---\n$[[ inputs.name ]]:\n  script: [x]\n")
    with pytest.raises(FatalError, match="--input name=VALUE"):
        read_pipeline(tmp_path)
    assert [j.name for j in read_pipeline(tmp_path, inputs={"name": "a"}).jobs] == ["a"]


def test_included_file_takes_the_include_inputs(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "c.yml").write_text(COMPONENT)
    _write(tmp_path, "include:\n  - local: ci/c.yml\n    inputs: {job_name: py311}\n")
    assert sorted(j.name for j in read_pipeline(tmp_path).jobs) == ["py311", "py311-lint"]


def test_duplicate_keys_last_wins(tmp_path: Path) -> None:
    _write(tmp_path, "test:\n  script: [uv sync]\n  script: [uv sync --locked]\n")
    (job,) = read_pipeline(tmp_path).jobs
    assert [line.text for line in job.scripts] == ["uv sync --locked"]


def test_reference_sees_what_extends_gives(tmp_path: Path) -> None:
    text = (
        ".base:\n  script: [uv sync --locked]\n"
        ".child:\n  extends: .base\n"
        "test:\n  script:\n    - !reference [.child, script]\n    - uv run --locked pytest\n"
    )
    jobs = read_pipeline(_write(tmp_path, text), round_trip=False).jobs
    assert [line.text for line in jobs[0].scripts] == ["uv sync --locked", "uv run --locked pytest"]


@pytest.mark.parametrize("target", ["../outside.yml", "/../outside.yml", "link.yml"])
def test_local_include_outside_the_project_is_refused(tmp_path: Path, target: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.yml").write_text("evil:\n  script: [uv sync]\n")
    (project / "link.yml").symlink_to(tmp_path / "outside.yml")
    _write(project, f"include:\n  - local: '{target}'\ntest:\n  script: [x]\n")
    with pytest.raises(FatalError, match="outside the repository"):
        read_pipeline(project)


HOSTILE = {
    "deep": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-block": "".join("  " * i + f"k{i}:\n" for i in range(400)),
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ),
    "parallel": "test:\n  script: [uv sync]\n  parallel: 500\n",
    "matrix": "test:\n  script: [uv sync]\n  parallel:\n    matrix:\n"
    "      - A: [" + ", ".join(str(i) for i in range(30)) + "]\n"
    "        B: [" + ", ".join(str(i) for i in range(30)) + "]\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("fix", [False, True])
def test_hostile_yaml_is_one_line_and_exit_2_quickly(
    tmp_path: Path, name: str, fix: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, HOSTILE[name])
    start = time.process_time()
    assert main(["doctor", str(tmp_path), *(["--dry-run"] if fix else [])]) == 2
    assert time.process_time() - start < 5
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert ".gitlab-ci.yml" in err


@pytest.mark.parametrize(
    ("text", "args", "said"),
    [
        (COMPONENT, ["--input", "job_name"], "write it as NAME=VALUE"),
        (COMPONENT.replace("inputs.python", "inputs.pyhton"), [], "inputs.pyhton"),
        ("spec:\n  inputs:\n    n:\n---\n$[[ inputs.n ]]:\n  script: [x]\n", [], "--input n="),
    ],
)
def test_bad_inputs_are_one_line_and_exit_2(
    tmp_path: Path, text: str, args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, text)
    assert main(["doctor", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and said in err, err


def test_folded_and_continued_commands_are_read_whole(tmp_path: Path) -> None:
    text = (
        "test:\n  script:\n    - >\n      uv sync\n      --locked\n"
        "    - |\n      uv run \\\n        --locked pytest\n"
    )
    (job,) = read_pipeline(_write(tmp_path, text)).jobs
    report = check(tmp_path, select=["UVC007"])
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert check(tmp_path, select=["UVC007"]).findings == () == report.findings
    assert len(job.scripts) == 2
