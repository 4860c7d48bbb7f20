"""`uvci doctor --fix`: the rewritten pipeline re-checks clean for what was fixed, is valid
against GitLab's CI schema, keeps everything else byte for byte, and a second run is a no-op."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.support.schema import gitlab_ci_errors
from uvci.cli import main
from uvci.doctor.engine import check
from uvci.doctor.lockcheck import why_not_fresh

DATA = Path(__file__).parents[1] / "data" / "pipelines"
REFUSED = {"UVC007-stale-lock"}  # --locked on a stale uv.lock would fail every job
# `cache: [!reference [.x, cache]]` (GitLab flattens it) reads as a list in a list to the
# schema, which has no notion of !reference: valid for GitLab, not for the schema
SCHEMA_BLIND = {"UVC003-referenced-cache-list"}
FIXABLE = sorted(
    case.name
    for case in (DATA / "positive").iterdir()
    if case.is_dir() and case.name not in REFUSED and any(f.edits for f in check(case).findings)
)


def skip_unless_locks_checkable() -> None:
    """--fix adds --locked only to a uv.lock that `uv lock --check` finds current, which needs
    a Python the cases' requires-python (>=3.12) allows: a 3.10 image has none."""
    reason = why_not_fresh(DATA / "positive" / "UVC007-unlocked-sync")
    if reason is not None and reason.startswith("could not check"):
        pytest.skip(f"no Python >= 3.12 for `uv lock --check`: {reason}")


def copy_case(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / "positive" / name, target)
    return target


def test_the_fixable_rules_are_the_documented_ones() -> None:
    fixable_rules = {
        f.rule for name in FIXABLE for f in check(DATA / "positive" / name).findings if f.edits
    }
    expected = {"UVC002", "UVC003", "UVC004", "UVC007", "UVC008", "UVC012", "UVC013", "UVC014"}
    expected |= {"UVC016", "UVC025"}
    assert fixable_rules == expected


@pytest.mark.parametrize("name", FIXABLE)
def test_fix_removes_the_fixable_findings_and_stays_schema_valid(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if name.startswith("UVC007"):
        skip_unless_locks_checkable()
    case = copy_case(name, tmp_path)
    before = {(f.rule, f.message) for f in check(case).findings if not f.edits}
    assert main(["doctor", str(case), "--fix"]) in (0, 1)
    out = capsys.readouterr().out
    assert "--- a/" in out and "+++ b/" in out
    after = check(case).findings
    assert [f for f in after if f.edits] == []
    # what could not be fixed is still reported, unchanged
    assert before <= {(f.rule, f.message) for f in after}
    if name not in SCHEMA_BLIND:
        assert gitlab_ci_errors(case / ".gitlab-ci.yml") == []
    text = (case / ".gitlab-ci.yml").read_text()
    assert main(["doctor", str(case), "--fix"]) in (0, 1)
    assert "nothing to fix automatically" in capsys.readouterr().out
    assert (case / ".gitlab-ci.yml").read_text() == text


def test_fix_leaves_unlocked_jobs_alone_when_the_lock_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = why_not_fresh(DATA / "positive" / "UVC007-stale-lock")
    if reason is not None and reason.startswith("could not check"):
        pytest.skip(f"no Python for `uv lock --check`: {reason}")
    case = copy_case("UVC007-stale-lock", tmp_path)
    text = (case / ".gitlab-ci.yml").read_text()
    assert main(["doctor", str(case), "--fix"]) == 1
    out = capsys.readouterr().out
    assert "nothing to fix automatically" in out and "UVC024" in out and "(--fix)" not in out
    assert (case / ".gitlab-ci.yml").read_text() == text


def test_dry_run_prints_the_diff_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skip_unless_locks_checkable()
    case = copy_case("UVC007-unlocked-sync", tmp_path)
    original = (case / ".gitlab-ci.yml").read_text()
    assert main(["doctor", str(case), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "--- a/.gitlab-ci.yml\n+++ b/.gitlab-ci.yml\n" in out
    assert "\n-    - uv sync\n" in out
    assert "\n+    - uv sync --locked\n" in out
    assert (case / ".gitlab-ci.yml").read_text() == original


def test_fix_keeps_comments_anchors_references_and_order(tmp_path: Path) -> None:
    skip_unless_locks_checkable()
    for name in ("uv.lock", "pyproject.toml"):  # a lock --fix can check is up to date
        (tmp_path / name).write_text((DATA / "positive/UVC007-unlocked-sync" / name).read_text())
    pipeline = tmp_path / ".gitlab-ci.yml"
    pipeline.write_text(
        textwrap.dedent(
            """\
            # shared setup
            variables:
              UV_CACHE_DIR: .uv-cache  # inside the project

            .cache: &cache
              key:
                files: [uv.lock]
              paths: [.uv-cache]
              policy: pull

            .setup:
              script:
                - uv sync     # install
                - echo ready

            test:
              image: ghcr.io/astral-sh/uv:0.9.17-python3.12-bookworm-slim
              cache: *cache
              script:
                - !reference [.setup, script]
                - 'uv run pytest'
            """
        )
    )
    original = pipeline.read_text()
    assert main(["doctor", str(tmp_path), "--fix"]) == 0
    expected = original.replace("- uv sync     # install", "- uv sync --locked     # install")
    expected = expected.replace("'uv run pytest'", "'uv run --locked pytest'")
    assert pipeline.read_text() == expected
    assert gitlab_ci_errors(pipeline) == []


def test_fix_edits_the_template_once_for_every_job(tmp_path: Path) -> None:
    case = copy_case("seed-uv-issue-14495", tmp_path)
    assert main(["doctor", str(case), "--fix"]) == 1  # UVC003/006/007 need a new layout
    text = (case / ".gitlab-ci.yml").read_text()
    assert text.startswith('variables:\n  FF_USE_FASTZIP: "true"\n')
    assert text.count("FF_USE_FASTZIP") == 1
    assert gitlab_ci_errors(case / ".gitlab-ci.yml") == []
    assert {f.rule for f in check(case).findings} == {"UVC003", "UVC006", "UVC007"}


def test_fix_edits_the_included_file_that_defines_the_line(tmp_path: Path) -> None:
    skip_unless_locks_checkable()
    for name in ("uv.lock", "pyproject.toml"):
        (tmp_path / name).write_text((DATA / "positive/UVC007-unlocked-sync" / name).read_text())
    (tmp_path / "ci").mkdir()
    root = tmp_path / ".gitlab-ci.yml"
    root.write_text(
        "include:\n  - local: ci/uv.yml\n\n"
        "test:\n  extends: .uv\n  image: ghcr.io/astral-sh/uv:0.9.17-python3.12-bookworm-slim\n"
    )
    included = tmp_path / "ci" / "uv.yml"
    included.write_text(
        "# uv steps\n.uv:\n  variables:\n    UV_CACHE_DIR: .uv-cache\n"
        "  cache:\n    key:\n      files: [uv.lock]\n    paths: [.uv-cache]\n"
        "  script:\n    - uv sync  # deps\n    - uv run --locked pytest\n"
    )
    before_root = root.read_text()
    assert main(["doctor", str(tmp_path), "--fix"]) == 0
    assert root.read_text() == before_root
    assert "    - uv sync --locked  # deps\n" in included.read_text()
    assert included.read_text().startswith("# uv steps\n.uv:\n")
    assert gitlab_ci_errors(root) == [] and gitlab_ci_errors(included) == []
