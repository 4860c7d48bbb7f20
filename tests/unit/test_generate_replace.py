"""`uvci generate` finds the jobs uvci-test replaces: names them, or removes them (--replace)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.schema import gitlab_ci_errors
from tests.support.uvcispec import HASHED_SPEC
from uvci.cli import main
from uvci.doctor.engine import check

LockedProject = Callable[..., Path]
HAND_WRITTEN = """\
# the team's pipeline: keep this comment
stages: [test, deploy]

# one job per Python, as the project wrote them
"Run tests v3.11":
  image: python:3.11
  script:
    - pip install -e .
    - python -m pytest --cov=pure_app  # the coverage stays our business
  coverage: '/TOTAL.*\\s+(\\d+%)$/'

"Run tests v3.12":
  image: python:3.12
  script:
    - pip install -e .
    - pytest

# tests on a Python outside the matrix: kept
legacy:
  image: python:3.9
  script:
    - pip install -e .
    - pytest

# deploy comes last
deploy:
  stage: deploy
  script: [echo deploy]  # eol comment
"""


def generate(project: Path, *args: str) -> int:
    return main(["generate", str(project), "--python", "3.11,3.12", "--uvci-spec", HASHED_SPEC,
                 "--test-command", "python -m unittest", *args])  # fmt: skip


def test_without_replace_the_jobs_are_named_and_left(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    (project / ".gitlab-ci.yml").write_text(HAND_WRITTEN)
    assert generate(project) == 0
    err = capsys.readouterr().err
    assert "uvci-test replaces 2 job(s)" in err and "pass --replace" in err
    assert "  Run tests v3.11 (" in err and "carry over its coverage report (--coverage)" in err
    assert "legacy" not in err
    ci = (project / ".gitlab-ci.yml").read_text()
    assert '"Run tests v3.12":' in ci and "- local: .gitlab/ci/uvci.yml" in ci
    report = check(project, select=["UVC025"])  # doctor names the same two
    assert sorted(j for f in report.findings for j in f.jobs) == ["Run tests v3.11",
                                                                  "Run tests v3.12"]  # fmt: skip


def test_replace_removes_them_shows_the_diff_and_keeps_everything_else(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    (project / ".gitlab-ci.yml").write_text(HAND_WRITTEN)
    assert generate(project, "--replace") == 0
    err = capsys.readouterr().err
    assert '-"Run tests v3.11":' in err and "+  - local: .gitlab/ci/uvci.yml" in err
    assert "removed 2 job(s) uvci-test replaces: Run tests v3.11, Run tests v3.12" in err
    ci = (project / ".gitlab-ci.yml").read_text()
    assert "Run tests" not in ci and "--cov" not in ci
    kept = ("# the team's pipeline: keep this comment", "# one job per Python",
            "# tests on a Python outside the matrix: kept", "legacy:", "# deploy comes last",
            "script: [echo deploy]  # eol comment", "- local: .gitlab/ci/uvci.yml")  # fmt: skip
    for text in kept:
        assert text in ci
    assert gitlab_ci_errors(project / ".gitlab-ci.yml") == []
    assert check(project, select=["UVC025"]).findings == ()
    assert generate(project, "--replace") == 0  # again: nothing left to replace, nothing changed
    assert "no job of the pipeline duplicates uvci-test" in capsys.readouterr().err
    assert (project / ".gitlab-ci.yml").read_text() == ci


def test_replace_removes_a_job_from_a_local_include(locked_project: LockedProject) -> None:
    project = locked_project("pure")
    (project / "ci").mkdir()
    (project / "ci" / "tests.yml").write_text(
        "# tests\nunit:\n  image: python:3.12\n  script:\n    - uv sync --locked\n"
        "    - uv run pytest\n"
    )
    (project / ".gitlab-ci.yml").write_text("include:\n  - local: ci/tests.yml\n")
    assert generate(project, "--replace") == 0
    assert (project / "ci" / "tests.yml").read_text().strip() in ("# tests", "# tests\n{}", "{}")
    assert (
        "- local: ci/tests.yml\n  - local: .gitlab/ci/uvci.yml"
        in (project / ".gitlab-ci.yml").read_text()
    )


def test_replace_refuses_stdout(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    assert generate(project, "--replace", "--stdout") == 2
    assert "--replace edits .gitlab-ci.yml" in capsys.readouterr().err


def test_keys_for_a_uvci_job_the_pipeline_lacks_are_named(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    """One Python, shared layout: the only job is uvci-test-writer, so `uvci-test:` keys
    would be a job of their own."""
    project = locked_project("pure")
    (project / ".gitlab-ci.yml").write_text("uvci-test:\n  tags: [docker]\n")
    argv = ["generate", str(project), "--python", "3.12", "--test-command", "python -m unittest",
            "--uvci-spec", HASHED_SPEC]  # fmt: skip
    assert main([*argv, "--layout", "shared"]) == 0
    err = capsys.readouterr().err
    assert "sets keys for uvci-test, which this pipeline does not have" in err
    assert "its jobs: uvci-test-writer" in err
    assert main([*argv, "--layout", "per-cell"]) == 0
    assert "does not have" not in capsys.readouterr().err
