"""`uvci doctor` through the real command line: exit codes, formats, errors, --explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uvci.doctor.catalog import RULES

DATA = Path(__file__).parents[1] / "data" / "pipelines"
SEED = DATA / "positive" / "seed-uv-issue-14495"


def uvci(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.run(
        [sys.executable, "-m", "uvci", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_clean_pipeline_exits_0() -> None:
    result = uvci("doctor", str(DATA / "negative" / "clean-matrix"))
    assert result.returncode == 0, result.stderr
    assert "5 jobs, 5 run uv (pyproject.toml, uv.lock): no findings" in result.stdout


def test_seed_text_report_is_grouped_by_job_with_file_line(tmp_path: Path) -> None:
    result = uvci("doctor", cwd=SEED)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    head = ".gitlab-ci.yml: 5 jobs, 5 run uv (no pyproject.toml, no uv.lock): 4 findings"
    assert lines[0] == head
    assert lines[2] == "python-3.9, python-3.10, python-3.11, … (5 jobs)"
    heads = [line.split()[:3] for line in lines if line.startswith("  .gitlab-ci.yml:")]
    assert heads == [
        [".gitlab-ci.yml:7", "major", "UVC003"],
        [".gitlab-ci.yml:25", "major", "UVC007"],
        [".gitlab-ci.yml:27", "major", "UVC006"],
        [".gitlab-ci.yml:7", "minor", "UVC013"],
    ]


def test_json_format() -> None:
    result = uvci("doctor", str(SEED), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["pipeline"] == ".gitlab-ci.yml"
    assert data["summary"] == {"info": 0, "minor": 1, "major": 3, "critical": 0}
    rules = {f["rule"]: f for f in data["findings"]}
    assert rules["UVC007"]["line"] == 25 and rules["UVC007"]["path"] == ".gitlab-ci.yml"
    assert len(rules["UVC007"]["jobs"]) == 5
    assert rules["UVC013"]["fixable"] is True and rules["UVC003"]["fixable"] is False
    assert rules["UVC013"]["fixes"] == [
        "set FF_USE_FASTZIP: true",
        "set CACHE_COMPRESSION_LEVEL: fastest",
    ]


def test_codeclimate_format_is_a_gitlab_code_quality_report() -> None:
    result = uvci("doctor", str(SEED), "--format", "codeclimate")
    issues = json.loads(result.stdout)
    assert len(issues) == 4
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] == ".gitlab-ci.yml"
        assert issue["location"]["lines"]["begin"] > 0
    assert len({issue["fingerprint"] for issue in issues}) == 4
    categories = {issue["check_name"]: issue["categories"] for issue in issues}
    assert categories["UVC007"] == ["Bug Risk"]  # unlocked installs: cells test other versions
    assert categories["UVC003"] == ["Performance"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".gitlab-ci.yml": "test:\n  script: [uv sync\n"}, ".gitlab-ci.yml:3: invalid YAML"),
        (
            {".gitlab-ci.yml": "include: ci/missing.yml\ntest:\n  script: [uv sync]\n"},
            ".gitlab-ci.yml:1: include 'ci/missing.yml' not found",
        ),
        (
            {".gitlab-ci.yml": ".a:\n  extends: .b\n.b:\n  extends: .a\nt:\n  extends: .a\n"},
            "cyclic extends: .a -> .b -> .a",
        ),
    ],
    ids=["malformed-yaml", "missing-include", "cyclic-extends"],
)
def test_unreadable_pipeline_is_one_line_and_exit_2(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = uvci("doctor", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("uvci doctor: error: ")
    assert expected in result.stderr


def test_explain_through_the_cli() -> None:
    for rule in RULES[:3]:  # the rest are checked in-process (tests/unit/test_doctor_render.py)
        result = uvci("doctor", "--explain", rule.id.lower())
        assert result.returncode == 0
        assert result.stdout.startswith(f"{rule.id}: {rule.title}")
        assert "Cost: " in result.stdout and "Fix: " in result.stdout


def test_explain_unknown_rule_exits_2() -> None:
    result = uvci("doctor", "--explain", "UVC999")
    assert result.returncode == 2
    assert "unknown rule 'UVC999'" in result.stderr


def test_help_teaches() -> None:
    result = uvci("doctor", "--help")
    assert result.returncode == 0
    for text in ("--fix", "--dry-run", "--explain", "codeclimate", "exit codes"):
        assert text in result.stdout


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = uvci("doctor", str(tmp_path / "nope"))
    assert result.returncode == 2
    missing = tmp_path / "nope"
    hint = "no such file; pass the pipeline file or its directory"
    assert result.stderr == f"uvci doctor: error: {missing}: {hint}\n"
