"""What `uvci generate` writes must pass `uvci doctor` with no finding (and GitLab's schema)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.schema import gitlab_ci_errors
from tests.support.uvcispec import HASHED_SPEC
from uvci.cli import main
from uvci.doctor.engine import check

LAYOUTS = {"pure": ("--layout", "shared"), "compiled": ("--layout", "per-cell", "--build-once")}


@pytest.mark.parametrize("name", ["pure", "compiled", "sdist-only", "workspace", "forked"])
def test_generated_pipeline_is_clean(
    name: str,
    locked_project: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = locked_project(name)
    # the test projects lock no pytest: their cells run unittest
    argv = [
        "generate",
        str(project),
        "--test-command",
        "python -m unittest",
        "--uvci-spec",
        HASHED_SPEC,  # a fill installs uvci with `uv pip install`, into its own venv: a tool
        *LAYOUTS.get(name, ()),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    ci_files = [project / ".gitlab-ci.yml", *sorted((project / ".gitlab").rglob("*.yml"))]
    assert len(ci_files) >= 2  # .gitlab-ci.yml includes the generated file
    report = check(project)
    assert [(f.rule, str(f.loc), f.message) for f in report.findings] == []
    assert report.uv_jobs > 0
    for path in ci_files:
        assert gitlab_ci_errors(path) == [], path
