""".pre-commit-hooks.yaml: a manifest pre-commit accepts, whose entry runs `uvci doctor`.

pre-commit itself is not a dependency (its manifest schema is checked when it is importable);
the structural test below holds the manifest to the keys pre-commit's ``MANIFEST_HOOK_DICT``
defines (pre_commit/clientlib.py) and runs the entry on the files its ``files`` pattern picks.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).parents[2]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
REQUIRED = {"id", "name", "entry", "language"}
OPTIONAL = {
    "alias", "files", "exclude", "types", "types_or", "exclude_types", "additional_dependencies",
    "args", "always_run", "fail_fast", "pass_filenames", "description", "language_version",
    "log_file", "minimum_pre_commit_version", "require_serial", "stages", "verbose",
}  # fmt: skip
LANGUAGES = {"python", "system", "script", "docker", "docker_image", "node", "golang", "rust"}


def _hooks() -> list[dict[str, object]]:
    hooks = YAML(typ="safe").load(MANIFEST.read_text())
    assert isinstance(hooks, list) and hooks
    return hooks


def test_the_manifest_has_pre_commits_keys_and_types() -> None:
    (hook,) = _hooks()
    keys = set(hook)
    assert keys >= REQUIRED and keys <= REQUIRED | OPTIONAL
    assert hook["id"] == "uvci-doctor" and hook["language"] in LANGUAGES
    assert hook["entry"] == "uvci doctor" and hook["pass_filenames"] is False
    files = re.compile(str(hook["files"]))
    for path in (".gitlab-ci.yml", ".gitlab/ci/uvci.yml", ".gitlab/ci/jobs/test.yaml"):
        assert files.search(path), path
    for path in ("README.md", "src/app/.gitlab-ci.yml.bak", "docs/ci.yml"):
        assert not files.search(path), path


def test_pre_commits_own_schema_accepts_it_when_installed() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    clientlib.load_manifest(str(MANIFEST))


CASES = [("negative/UVC025-other-jobs-stay", 0), ("positive/UVC025-hand-written-test-jobs", 1)]


@pytest.mark.parametrize(("example", "code"), CASES)
def test_the_entry_runs_uvci_doctor_in_the_repository(
    tmp_path: Path, example: str, code: int
) -> None:
    """As pre-commit runs it: the entry's words, in the repository's root, no file names."""
    (hook,) = _hooks()
    project = tmp_path / "repo"
    shutil.copytree(REPO / "tests" / "data" / "pipelines" / example, project)
    argv = shlex.split(str(hook["entry"]))
    assert argv[0] == "uvci"  # the console script [project.scripts] installs
    run = subprocess.run([sys.executable, "-m", "uvci", *argv[1:]], cwd=project,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == code, run.stdout + run.stderr
    if code:
        assert "UVC025" in run.stdout
