"""What a project's old test jobs did, carried by options: system packages, a coverage report;
and the generated job robust to a user's keys for uvci-test (docs/pipeline.md)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.schema import gitlab_ci_errors
from tests.support.uvcispec import HASHED_SPEC
from uvci.cli import main
from uvci.gitlab.generate import scripts as sh
from uvci.gitlab.generate.header import dump
from uvci.gitlab.generate.pipeline import (
    INHERITED_DEFAULTS,
    GenerateOptions,
    LocalBuilds,
    Shape,
    build_jobs,
)

LockedProject = Callable[..., Path]
UNITTEST = ("--test-command", "python -m unittest")


def _jobs(**options: Any) -> dict[str, Any]:
    opts = GenerateOptions(uv_version="0.13.9", uvci_spec="uvci==9", plan_args=(), **options)
    shape = Shape(("3.12", "3.13"), LocalBuilds((".",), ()), "per-cell")
    text = dump([build_jobs(shape, opts)])
    assert gitlab_ci_errors(text) == []
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


def test_system_packages_come_first_with_apt_on_trixie_and_apk_on_alpine() -> None:
    script = _jobs(system_packages="less libpq-dev")["uvci-test"]["script"]
    assert script[0] == 'cd "$CI_PROJECT_DIR"'
    assert "rm -f .uvci" in script[1]  # the clean-up of what a restored cache planted, first
    assert script[2] == sh.work_dirs() + "\n"
    assert (
        script[3].startswith('uvci_packages="less libpq-dev"\n') and "apt-get install" in script[3]
    )
    assert "uv export" in script[4]
    alpine = _jobs(system_packages="less", image_variant="alpine")["uvci-test"]["script"]
    assert "apk add --no-cache $uvci_packages" in alpine[3] and "apt-get" not in alpine[3]
    assert not any("uvci_packages" in line for line in _jobs()["uvci-test"]["script"])


def _fake(tmp_path: Path, name: str) -> dict[str, str]:
    """A stand-in for apt-get/apk on PATH that records its arguments (no network, no root)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls"\n')
    tool.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize("variant", ["trixie-slim", "alpine"])
def test_the_system_packages_step_runs_the_package_manager(tmp_path: Path, variant: str) -> None:
    env = _fake(tmp_path, "apk" if variant == "alpine" else "apt-get")
    step = sh.system_packages("less libpq-dev", variant)
    subprocess.run(["sh", "-c", step], cwd=tmp_path, env=env, check=True, capture_output=True)
    calls = (tmp_path / "calls").read_text().splitlines()
    if variant == "alpine":
        assert calls == ["apk add --no-cache less libpq-dev"]
    else:
        assert calls[0] == "apt-get update -qq"
        assert calls[1].endswith("--no-install-recommends less libpq-dev")
    empty = subprocess.run(["sh", "-c", sh.system_packages("", variant)], cwd=tmp_path, env=env,
                           check=True, capture_output=True, text=True)  # fmt: skip
    assert empty.stdout == "" and len((tmp_path / "calls").read_text().splitlines()) == len(calls)


def test_coverage_adds_pytest_cov_the_regex_and_the_cobertura_report() -> None:
    job = _jobs(test_command="pytest -q", coverage="my_pkg")["uvci-test"]
    assert job["script"][-1] == (
        "pytest -q --cov=my_pkg --cov-report=term --cov-report=xml:.uvci/coverage.xml "
        "--junitxml=.uvci/junit.xml"
    )
    assert job["coverage"] == sh.COVERAGE_REGEX
    assert job["artifacts"]["reports"] == {
        "junit": ".uvci/junit.xml",
        "coverage_report": {"coverage_format": "cobertura", "path": ".uvci/coverage.xml"},
    }
    plain = _jobs(test_command="pytest -q")["uvci-test"]
    assert "coverage" not in plain and "coverage_report" not in plain["artifacts"]["reports"]


def test_the_coverage_regex_reads_pytest_covs_total_line() -> None:
    import re

    pattern = re.compile(sh.COVERAGE_REGEX.strip("/"), re.MULTILINE)
    report = "Name    Stmts   Miss  Cover\n---\nTOTAL      120     18    85%\n"
    match = pattern.search(report)
    assert match is not None and match.group(1) == "85%"
    assert pattern.search("TOTAL 10 0 100%\n").group(1) == "100%"  # type: ignore[union-attr]


def test_the_job_takes_runner_settings_from_default_but_not_its_before_script() -> None:
    base = _jobs()[".uvci"]
    assert base["inherit"] == {"default": list(INHERITED_DEFAULTS)}
    assert "before_script" not in INHERITED_DEFAULTS and "tags" in INHERITED_DEFAULTS


def test_coverage_needs_pytest_cov_in_the_lock(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    code = main(["generate", str(project), "--stdout", "--python", "3.12", *UNITTEST,
                 "--coverage"])  # fmt: skip
    assert code == 2
    assert "is not pytest" in capsys.readouterr().err
    assert main(["generate", str(project), "--stdout", "--python", "3.12",
                 "--coverage-package", "x"]) == 2  # fmt: skip
    assert "pass --coverage too" in capsys.readouterr().err


def test_system_packages_are_checked_and_kept_in_the_regenerate_command(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    argv = ["generate", str(project), "--stdout", "--python", "3.12", *UNITTEST,
            "--uvci-spec", HASHED_SPEC]  # fmt: skip
    assert main([*argv, "--system-packages", "less; rm -rf /"]) == 2
    assert "not a package name apt or apk accepts" in capsys.readouterr().err
    assert main([*argv, "--system-packages", "less,libpq-dev", "--system-packages", "git"]) == 0
    text = capsys.readouterr().out
    assert 'uvci_packages="less libpq-dev git"' in text
    assert "--system-packages less,libpq-dev,git" in text.splitlines()[1]


def test_a_global_ssl_cert_file_reaches_every_generated_cell(tmp_path: Path) -> None:
    """Behind a TLS-intercepting proxy (docs/pipeline.md): SSL_CERT_FILE set once in the
    including pipeline reaches uv and uvci in every cell, as GitLab resolves the jobs."""
    from uvci.gitlab.read.pipeline import read_pipeline

    generated = tmp_path / ".gitlab" / "ci" / "uvci.yml"
    generated.parent.mkdir(parents=True)
    generated.write_text(dump([build_jobs(Shape(("3.12", "3.13"), LocalBuilds((".",), ()),
                         "per-cell"), GenerateOptions("0.13.9", "uvci==9", ()))]))  # fmt: skip
    (tmp_path / ".gitlab-ci.yml").write_text(
        "include:\n  - local: .gitlab/ci/uvci.yml\n"
        "variables:\n  SSL_CERT_FILE: $COMPANY_CA_BUNDLE\n  HTTPS_PROXY: http://proxy.corp:3128\n"
    )
    cells = [job for job in read_pipeline(tmp_path).jobs if job.base == "uvci-test"]
    assert [job.cell["PYTHON"] for job in cells] == ["3.12", "3.13"]
    for job in cells:
        assert job.variables["SSL_CERT_FILE"] == "$COMPANY_CA_BUNDLE"
        assert job.variables["HTTPS_PROXY"] == "http://proxy.corp:3128"
    assert "inherit" not in _jobs()["uvci-test"] or "variables" not in _jobs()[".uvci"]["inherit"]


def test_the_component_takes_system_packages_and_coverage_as_inputs(
    locked_project: LockedProject, tmp_path: Path
) -> None:
    from uvci.gitlab.generate.component import inputs

    project = locked_project("pure")
    target = tmp_path / "component"
    argv = ["generate", str(project), "--python", "3.12", *UNITTEST, "--component", str(target),
            "--system-packages", "less,git", "--uvci-spec", HASHED_SPEC]  # fmt: skip
    assert main(argv) == 0
    path = target / "templates" / "uvci.yml"
    assert gitlab_ci_errors(path) == []
    header, jobs = path.read_text().split("\n---\n")
    spec = YAML(typ="safe").load(header)["spec"]["inputs"]
    assert spec["system-packages"]["default"] == "less git" and "coverage-package" not in spec
    assert 'uvci_packages="$[[ inputs.system-packages ]]"' in jobs and "coverage" not in jobs
    opts = GenerateOptions("0.13.9", "uvci==9", (), coverage="my_pkg")
    assert inputs(opts)["coverage-package"]["default"] == "my_pkg"
