"""Every example pipeline under tests/data/pipelines gives exactly the findings it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.doctor.catalog import RULES
from uvci.doctor.engine import check

DATA = Path(__file__).parents[1] / "data" / "pipelines"
POSITIVE = sorted(p for p in (DATA / "positive").iterdir() if p.is_dir())
NEGATIVE = sorted(p for p in (DATA / "negative").iterdir() if p.is_dir())

# The full set of rules each positive example reports: the rule it is named after, plus the
# other findings that are true for it (so a new false positive fails here).
EXPECTED = {
    "UVC001-no-cache": {"UVC001", "UVC014"},
    "UVC001-uv-by-path": {
        "UVC001",
        "UVC009",
        "UVC014",
    },  # ~/.local/bin/uv is uv  # no UV_CACHE_DIR: ~/.cache/uv vs ./.venv
    "UVC002-dir-not-set": {"UVC002", "UVC014"},
    "UVC002-outside-project": {"UVC002", "UVC014"},
    "UVC002-pip-cache": {"UVC002", "UVC014"},
    "UVC002-project-dir-variable": {"UVC002"},
    "UVC003-branch-key": {"UVC003"},
    "UVC003-unpinned-names-default-key": {"UVC003", "UVC014"},  # class 9
    # issue 22 class 1: the cache the job has is judged though uv writes elsewhere
    "UVC003-cache-dir-not-set": {"UVC002", "UVC003", "UVC011", "UVC012", "UVC014"},
    "UVC004-cache-dir-not-set": {"UVC002", "UVC004", "UVC005", "UVC014"},
    "UVC005-lock-keyed-venv": {"UVC002", "UVC005", "UVC011"},  # a venv-only cache, too
    "UVC003-missing-key-file": {"UVC003", "UVC011"},  # one job on 3.12 only
    "UVC003-pyproject-key": {"UVC003"},
    "UVC003-referenced-cache-list": {"UVC003", "UVC011"},  # cache: [!reference [...]] (class 5)
    "UVC003-static-key": {"UVC003"},
    "UVC004-matrix-shares-key": {"UVC004", "UVC005"},
    "UVC004-one-writer-many-readers": {"UVC004"},
    "UVC004-nox-matrix": {"UVC004"},  # uvx nox: uv behind a test runner (class 8)
    "UVC004-per-version-jobs": {"UVC004"},  # no uv.lock here: not "lock-keyed" (UVC005)
    "UVC005-every-cell-uploads": {"UVC005"},
    "UVC005-job-slug-keys": {"UVC005"},  # and no UVC004: the keys differ per job
    "UVC006-delete-when-restored": {"UVC003", "UVC006"},
    "UVC007-pip-install-matrix": {"UVC007"},
    "UVC007-lock-in-subdirectory": {"UVC007"},
    "UVC007-child-pipeline": {
        "UVC005",
        "UVC007",
        "UVC010",
    },  # trigger: include: (class 2)  # cd server/ && uv sync; server/uv.lock
    "UVC007-stale-lock": {"UVC007", "UVC024"},  # and --fix leaves it (acceptance test)
    "UVC007-unlocked-sync": {"UVC007"},
    "UVC008-prune-wheels": {"UVC008"},
    "UVC008-no-lock": {"UVC008", "UVC014"},  # class 9: judged without uv.lock too
    "UVC008-tools-only": {"UVC008"},  # class 9: uvx tools' wheels only
    "UVC009-curl-installer": {"UVC001", "UVC009", "UVC019"},  # uvx ruff, unpinned
    "UVC009-latest-image": {"UVC009"},
    "UVC009-pip-install-uv": {"UVC009"},
    "UVC010-cell-runs-image-python": {"UVC010"},
    "UVC010-managed-python": {"UVC010"},
    "UVC010-managed-on-image-without-version": {"UVC010"},  # class 3
    # image 3.9, >=3.10 required: uv downloads another Python, so 3.9 is not "tested" (class 6)
    "UVC010-outside-requires-python": {"UVC010"},
    "UVC010-python-mismatch": {"UVC010"},
    "UVC010-venv-python": {"UVC010"},  # uv venv --python 3.11 on a 3.12 image (class 7)
    "UVC011-untested-version": {"UVC011"},
    "UVC012-project-environment-cached": {"UVC012"},
    "UVC012-venv-cached": {"UVC012"},
    "UVC013-torch-lock": {"UVC013"},
    "UVC014-system-install": {"UVC014"},
    "UVC015-no-cache-flag": {"UVC015"},
    "UVC016-lock-cached": {"UVC016"},
    "UVC017-fallback-never-written": {"UVC003", "UVC017"},  # a branch key, too
    "UVC018-node-and-python-share": {"UVC003", "UVC018"},  # a static key, too
    "UVC019-unpinned-uvx": {"UVC019"},
    "UVC020-pip-install-then-sync": {"UVC020"},
    "UVC021-sync-retried": {"UVC021"},
    "UVC022-uv-version-unused": {"UVC022"},
    "UVC023-bookworm-after-0.10": {"UVC023"},
    "UVC024-dependency-added": {"UVC024"},
    "UVC025-hand-written-test-jobs": {"UVC025"},
    # the seed (uv issue 14495): --torch-backend means PyTorch wheels, hence UVC013 too
    "seed-uv-issue-14495": {"UVC003", "UVC006", "UVC007", "UVC013"},
}


def test_every_rule_has_a_positive_and_a_negative_example() -> None:
    for rule in RULES:
        assert any(p.name.startswith(rule.id) for p in POSITIVE), rule.id
        assert any(p.name.startswith(rule.id) for p in NEGATIVE), rule.id
    assert set(EXPECTED) == {p.name for p in POSITIVE}


@pytest.mark.parametrize("case", POSITIVE, ids=lambda p: p.name)
def test_positive_example_reports_its_rules(case: Path) -> None:
    report = check(case)
    assert {f.rule for f in report.findings} == EXPECTED[case.name]
    for finding in report.findings:
        assert finding.loc.path.is_file()
        assert finding.loc.line > 0, finding


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda p: p.name)
def test_negative_example_is_clean(case: Path) -> None:
    report = check(case)
    assert report.findings == ()


def test_seed_findings_point_at_the_lines_that_cause_them() -> None:
    report = check(DATA / "positive" / "seed-uv-issue-14495")
    lines = {f.rule: f.loc.line for f in report.findings}
    assert lines["UVC003"] == 7  # the cache: of .test-base (key files: pyproject.toml)
    assert lines["UVC007"] == 25  # uv pip install artifacts/*.whl
    assert lines["UVC006"] == 27  # the rm -rf $UV_CACHE_DIR block
    by_rule = {f.rule: f for f in report.findings}
    assert len(by_rule["UVC007"].jobs) == 5  # one finding naming all five jobs
    assert "python-3.13" in by_rule["UVC006"].jobs


def test_seed_is_not_blamed_for_a_cache_dir_set_outside_the_yaml() -> None:
    # paths: [$UV_CACHE_DIR] follows UV_CACHE_DIR wherever the project settings put it
    report = check(DATA / "positive" / "seed-uv-issue-14495", select=["UVC002", "UVC014"])
    assert report.findings == ()


def test_select_limits_the_rules() -> None:
    report = check(DATA / "positive" / "UVC004-matrix-shares-key", select=["uvc005"])
    assert {f.rule for f in report.findings} == {"UVC005"}


def test_findings_name_jobs_of_matrix_cells() -> None:
    report = check(DATA / "positive" / "UVC004-matrix-shares-key", select=["UVC004"])
    (finding,) = report.findings
    assert finding.jobs[0] == "test: [3.10]"
    assert len(finding.jobs) == 5
    assert "3.10, 3.11, 3.12, 3.13, 3.14" in finding.message


@pytest.mark.parametrize("case", POSITIVE + NEGATIVE, ids=lambda p: p.name)
def test_fast_and_round_trip_loading_find_the_same(case: Path) -> None:
    def summary(for_fix: bool) -> list[tuple[str, str, str, tuple[str, ...]]]:
        report = check(case, for_fix=for_fix)
        return [(f.rule, str(f.loc), f.message, f.jobs) for f in report.findings]

    assert summary(False) == summary(True)


def test_child_pipeline_jobs_are_read_and_other_triggers_named() -> None:
    report = check(DATA / "positive" / "UVC007-child-pipeline")
    assert report.uv_jobs == 5 and report.jobs == 7
    assert all(f.loc.path.name == "child.yml" for f in report.findings)
    assert [text for text, _ in report.not_checked] == ["trigger: project: group/shared-ci"]


def test_duplicated_test_jobs_are_removed_by_fix_keeping_the_rest() -> None:
    from uvci.doctor.fixer import plan_fixes

    report = check(DATA / "positive" / "UVC025-hand-written-test-jobs", for_fix=True)
    jobs = sorted(j for f in report.findings for j in f.jobs)
    assert jobs == ["Run tests v3.12", "Run tests v3.13"]
    assert "carry over its a coverage report (--coverage)" not in report.findings[0].message
    assert "carry over its coverage report (--coverage) first" in report.findings[0].message
    (change,) = plan_fixes(report.pipeline, report.findings)
    assert "Run tests" not in change.after and "pytest" not in change.after
    assert change.after.startswith("# the project's own jobs, from before uvci\n")
    assert "lint:\n  image: python:3.13\n" in change.after
    assert "- local: .gitlab/ci/uvci.yml" in change.after
