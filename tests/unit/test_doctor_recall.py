"""Issue 22's recall classes, each on a minimal pipeline of our own: what doctor must see."""

from __future__ import annotations

from pathlib import Path

from uvci.doctor.engine import check

DATA = Path(__file__).parents[1] / "data" / "pipelines"


def findings(case: str, rule: str) -> list[tuple[int, str]]:
    report = check(DATA / case)
    return [(f.loc.line, f.message) for f in report.findings if f.rule == rule]


def test_class3_only_managed_is_judged_on_any_image_and_reported_at_the_variable() -> None:
    found = findings("positive/UVC010-managed-on-image-without-version", "UVC010")
    assert found == [
        (
            10,
            "UV_PYTHON_PREFERENCE=only-managed makes uv ignore any Python of the image: "
            "uv downloads it in every run",
        )
    ]


def test_class3_the_fix_for_only_managed_is_to_drop_it() -> None:
    report = check(DATA / "positive/UVC010-managed-on-image-without-version")
    assert report.findings[0].advice.startswith("drop UV_PYTHON_PREFERENCE=only-managed")


def test_class3_a_global_managed_variable_is_reported_where_it_is_set() -> None:
    assert [line for line, _ in findings("positive/UVC010-managed-python", "UVC010")] == [5]


def test_class4_a_variable_argument_is_expanded_before_it_is_taken_for_the_project() -> None:
    report = check(DATA / "negative/UVC010-variable-names-a-package")
    assert report.findings == ()
    assert report.uv_jobs == 6


def test_class4_an_unexpanded_path_variable_still_names_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\nrequires-python = ">=3.12"\n'
    )
    (tmp_path / ".gitlab-ci.yml").write_text(
        "job:\n  image: python:3.10\n  script:\n"
        '    - uv pip install --system "$WHEEL_PATH" pytest==8.3.3\n'
    )
    assert {f.rule for f in check(tmp_path).findings} >= {"UVC010"}


def test_class6_an_image_python_outside_requires_python_is_not_called_tested() -> None:
    report = check(DATA / "positive/UVC010-outside-requires-python")
    assert [f.rule for f in report.findings] == ["UVC010"]
    assert "another interpreter" in report.findings[0].message


def test_class6_a_global_python_variable_nothing_reads_is_not_a_matrix_cell() -> None:
    assert check(DATA / "negative/UVC011-global-python-variable").findings == ()


def test_a_stale_lock_is_one_finding_with_uvs_reason_and_locked_advice_waits_for_it() -> None:
    report = check(DATA / "positive/UVC007-stale-lock")
    stale = [f for f in report.findings if f.rule == "UVC024"]
    assert len(stale) == 1 and stale[0].loc.path.name == "uv.lock"
    assert "mismatched requirements" in stale[0].message  # uv's own words for the change
    unlocked = [f for f in report.findings if f.rule == "UVC007"]
    assert len(unlocked) == 2
    assert all(not f.edits and f.advice.startswith("after `uv lock` (UVC024)") for f in unlocked)


def test_a_current_lock_keeps_the_locked_fix() -> None:
    report = check(DATA / "positive/UVC007-child-pipeline")  # its uv.lock is current
    assert "UVC024" not in {f.rule for f in report.findings}
    assert all(f.edits for f in report.findings if f.rule == "UVC007")


def test_class7_uv_venv_python_is_checked_for_interpreter_downloads() -> None:
    found = findings("positive/UVC010-venv-python", "UVC010")
    assert [message for _, message in found] == [
        "the job asks uv for Python 3.11 but image "
        "`ghcr.io/astral-sh/uv:0.9.17-python3.12-bookworm-slim` has 3.12: "
        "uv downloads it in every run"
    ]


def test_class8_a_test_runner_behind_uvx_shares_the_matrix_key() -> None:
    found = findings("positive/UVC004-nox-matrix", "UVC004")
    assert len(found) == 1 and "2 jobs testing Python 3.12, 3.13 push one cache key" in found[0][1]


def _missing_key_file_project(root: Path) -> Path:
    (root / "requirements.txt").write_text("iniconfig==2.1.0\n")
    (root / ".gitlab-ci.yml").write_text(
        "variables:\n  UV_CACHE_DIR: .uv-cache\n"
        "test:\n  image: ghcr.io/astral-sh/uv:0.9.17-python3.12-bookworm-slim\n"
        "  cache:\n    key:\n      files: [requirements-dev.txt]\n    paths: [.uv-cache]\n"
        "  script:\n    - uv pip install --system -r requirements.txt\n"
    )
    return root


def test_class9_a_missing_key_file_in_a_checkout_without_pyproject(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    report = check(_missing_key_file_project(tmp_path))
    messages = [f.message for f in report.findings if f.rule == "UVC003"]
    assert messages == [
        "cache key file `requirements-dev.txt` does not exist in the project; the key never changes"
    ]


def test_class9_a_pipeline_file_alone_says_nothing_of_missing_files(tmp_path: Path) -> None:
    report = check(_missing_key_file_project(tmp_path))  # no .git, no pyproject.toml
    assert "UVC003" not in {f.rule for f in report.findings}


def _rules_of(root: Path, script: str, image: str = "python:3.12-slim") -> set[str]:
    (root / ".gitlab-ci.yml").write_text(f"lint:\n  image: {image}\n  script:\n    - {script}\n")
    return {f.rule for f in check(root).findings}


def test_class10_an_image_pinned_by_tag_and_digest_is_pinned(tmp_path: Path) -> None:
    digest = "sha256:" + "0" * 64
    image = f"ghcr.io/astral-sh/uv:0.9.17-trixie@{digest}"
    assert "UVC009" not in _rules_of(tmp_path, "uvx ruff@0.8.0 check", image)
    assert "UVC009" not in _rules_of(tmp_path, "uvx ruff@0.8.0 check", f"astral/uv@{digest}")
    assert "UVC009" in _rules_of(tmp_path, "uvx ruff@0.8.0 check", f"astral/uv:latest@{digest}")


def test_class10_xargs_uvx_is_a_uv_call(tmp_path: Path) -> None:
    assert "UVC019" in _rules_of(tmp_path, "git ls-files '*.py' | xargs -n 50 uvx ruff check")


def test_class10_uvx_python_runs_an_interpreter_not_a_tool(tmp_path: Path) -> None:
    assert "UVC019" not in _rules_of(tmp_path, "uvx python -c 'import sys'")
    assert "UVC019" not in _rules_of(tmp_path, "uv tool run python@3.12 -V")
    assert "UVC019" in _rules_of(tmp_path, "uvx pytest")


def test_class10_a_shared_cache_only_one_toolchain_fills_is_not_uvc018() -> None:
    assert check(DATA / "negative/UVC018-one-toolchain-writes").findings == ()


def test_class2_a_child_file_that_is_not_there_is_named_not_checked(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(
        "gen:\n  script: [./make-child > child.yml]\n"
        "run-child:\n  trigger:\n    include: child.yml\n"
        "by-env:\n  trigger:\n    include: ci/$TARGET.yml\n"
    )
    report = check(tmp_path)
    assert [text for text, _ in report.not_checked] == [
        "trigger: local: child.yml (not in the checkout as written)",
        "trigger: local: ci/$TARGET.yml (not in the checkout as written)",
    ]
