"""The README's "Use it in your project", step by step, on a project with its own test jobs:
generate names them (and what to carry over), --replace removes them, doctor then finds nothing
on the test jobs. (The coverage report and the system packages, run for real:
tests/acceptance/test_pipeline_extensions.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.uvcispec import HASHED_SPEC
from uvci.cli import main
from uvci.doctor.engine import check

LockedProject = Callable[..., Path]
README = Path(__file__).parents[2] / "README.md"
OWN_PIPELINE = """\
stages: [test]

.tests:
  before_script:
    - apt-get update && apt-get install -y less
    - pip install -e .
  coverage: '/TOTAL.*\\s+(\\d+%)$/'

"Run tests v3.11":
  extends: .tests
  image: python:3.11
  script: [python -m unittest]

"Run tests v3.12":
  extends: .tests
  image: python:3.12
  script: [python -m pytest -q]
"""


def test_the_readme_walks_this_path() -> None:
    text = README.read_text(encoding="utf-8")
    steps = text[text.index("## Use it in your project") : text.index("## The commands")]
    for words in ("uvx uvci generate", "--replace", "--coverage", "--system-packages",
                  "uvx uvci doctor", "uvci-test:", "SSL_CERT_FILE"):  # fmt: skip
        assert words in steps, words


def test_generate_then_replace_then_doctor_finds_nothing_on_the_test_jobs(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    (project / ".gitlab-ci.yml").write_text(OWN_PIPELINE)
    argv = ["generate", str(project), "--python", "3.11,3.12", "--uvci-spec", HASHED_SPEC,
            "--test-command", "python -m unittest", "--system-packages", "less"]  # fmt: skip
    assert main(argv) == 0  # step 2: generate, which names the jobs it replaces
    err = capsys.readouterr().err
    assert "uvci-test replaces 1 job(s)" not in err and "replaces 2 job(s)" in err
    assert "coverage report (--coverage)" in err and "system packages (--system-packages)" in err
    assert main([*argv, "--replace"]) == 0  # step 4: --replace, the same options
    err = capsys.readouterr().err
    assert "removed 2 job(s)" in err and '-"Run tests v3.11":' in err
    ci = (project / ".gitlab-ci.yml").read_text()
    assert ".tests:" in ci and "Run tests" not in ci  # the template is the user's: it stays
    report = check(project)
    on_test_jobs = [f for f in report.findings if any(j.startswith("uvci-") for j in f.jobs)]
    assert on_test_jobs == [] and all(f.rule != "UVC025" for f in report.findings)
