"""uvci's own pipeline: its test matrix is what `uvci generate` writes for uvci (Python
3.10-3.14, the dev group), lint and types are their own job, a tag publishes the release with
trusted publishing, and `uvci doctor .` finds nothing."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support.committed import committed_pipeline
from tests.support.committed import uvci as run_uvci
from tests.support.schema import gitlab_ci_errors

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / ".gitlab" / "ci" / "uvci.yml"
CI_FILE = REPO / ".gitlab-ci.yml"


def uvci(*args: str) -> subprocess.CompletedProcess[str]:
    return run_uvci(*args, cwd=REPO)


def ci() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(io.StringIO(CI_FILE.read_text("utf-8")))
    return loaded


def regenerate_args() -> list[str]:
    """The generate options recorded in the committed pipeline's header."""
    found = re.search(r"^#   uvci generate (.*)$", PIPELINE.read_text(), re.M)
    assert found, "the header names the command that regenerates it"
    return shlex.split(found.group(1))


def test_the_matrix_is_python_310_to_314_on_the_dev_group() -> None:
    args = regenerate_args()
    assert args[args.index("--python") + 1] == "3.10,3.11,3.12,3.13,3.14"
    assert "--group=dev" in args and "--no-default-groups" in args  # not the bench group
    text = PIPELINE.read_text()
    assert 'PYTHON: ["3.10", "3.11", "3.12", "3.13", "3.14"]' in text
    # the tests that need only uv and Python; the slow ones and the bench group's run elsewhere
    command = 'pytest -m "not slow" --ignore-glob="tests/unit/test_bench_*"'
    assert args[args.index("--test-command") + 1] == command
    assert f"\n    - {command} --junitxml=" in text


def test_committed_pipeline_is_what_generate_writes() -> None:
    committed = committed_pipeline(PIPELINE)
    result = uvci("generate", ".", *regenerate_args(), "--stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == committed, "regenerate it: the command is in .gitlab-ci.yml"


def test_doctor_finds_nothing_in_uvcis_own_pipeline() -> None:
    result = uvci("doctor", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout


def test_lint_and_types_are_their_own_job() -> None:
    assert gitlab_ci_errors(CI_FILE) == []
    config = ci()
    assert {"local": ".gitlab/ci/uvci.yml"} in config["include"]
    script = "\n".join(config["lint"]["script"])
    assert "ruff check src tests bench" in script and "ruff format --check" in script
    assert "mypy" in script and "uv sync --locked --all-groups" in script  # bench's imports too


def test_a_tag_builds_checks_and_publishes_with_trusted_publishing_only() -> None:
    release = ci()["release"]
    tag_rule = r"$CI_COMMIT_TAG =~ /^[0-9]+\.[0-9]+\.[0-9]+$/"
    assert [r["if"] for r in release["rules"]] == [tag_rule]
    assert release["id_tokens"] == {"PYPI_ID_TOKEN": {"aud": "pypi"}}
    script = "\n".join(release["script"])
    assert "uv build" in script and "twine@7.0.0 check" in script
    assert "uv publish --trusted-publishing always" in script
    text = CI_FILE.read_text(encoding="utf-8")
    for stored in ("UV_PUBLISH_PASSWORD", "UV_PUBLISH_TOKEN", "TWINE_PASSWORD", "--token",
                   "--password", "pypi-"):  # fmt: skip
        assert stored not in text
    assert "$CI_COMMIT_TAG" in script  # the tag must name pyproject's version


def test_the_tag_also_publishes_the_catalog_component_after_pypi() -> None:
    job = ci()["catalog-release"]
    assert job["release"]["tag_name"] == "$CI_COMMIT_TAG" and job["needs"] == ["release"]
    assert job["rules"] == ci()["release"]["rules"]
