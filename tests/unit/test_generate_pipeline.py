"""The generated pipeline's structure, its shell snippets (run for real) and the build kind."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.schema import gitlab_ci_errors
from uvci.buildkind import BuildKind, build_kind
from uvci.cli import main
from uvci.gitlab import pipeline_scripts as sh

LockedProject = Callable[..., Path]


def pipeline(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["generate", str(project), "--stdout", *args]) == 0
    text = capsys.readouterr().out
    assert gitlab_ci_errors(text) == []
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


def test_pure_project_shared_wheelhouse(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("pure"), capsys, "--python", "3.10,3.12")
    prefetch, test = jobs["uvci-prefetch"], jobs["uvci-test"]
    assert "parallel" not in prefetch and prefetch["variables"]["PYTHON"] == "3.12"
    assert prefetch["image"].endswith("-python3.12-bookworm-slim")
    wheels, tool, latest = prefetch["cache"]
    assert wheels["key"] == {"files": ["uv.lock"], "prefix": "uvci-wheels"}
    assert wheels["fallback_keys"] == ["uvci-wheels-latest"] and wheels["policy"] == "pull-push"
    assert (latest["key"], latest["policy"]) == ("uvci-wheels-latest", "push")
    assert tool["paths"] == [".uvci/uv-cache"] and prefetch["variables"]["UV_CACHE_DIR"] == (
        ".uvci/uv-cache"
    )
    assert "uvci prefetch --python 3.10,3.12" in prefetch["script"][1]
    assert prefetch["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule"'},
        {"changes": ["uv.lock", "pyproject.toml", ".gitlab/ci/uvci.yml"]},
    ]  # no rule matches (a warm pipeline): the job is left out
    assert test["needs"][0] == {"job": "uvci-prefetch", "artifacts": False, "optional": True}
    assert test["parallel"]["matrix"] == [{"PYTHON": ["3.10", "3.12"]}]
    assert test["image"].startswith("ghcr.io/astral-sh/uv:") and "python$PYTHON" in test["image"]
    assert [c["policy"] for c in test["cache"]] == ["pull"]
    assert test["artifacts"]["reports"]["junit"] == ".uvci/junit.xml"
    build = jobs["uvci-build"]
    assert "uv build --offline --wheel --out-dir .uvci/dist ." in build["script"][0]
    assert build["cache"][0]["key"] == "uvci-build-py3.12"
    assert sh.install_built_wheels() in test["script"]
    assert "pytest --junitxml=.uvci/junit.xml" in test["script"]


def test_sdist_only_dependency_in_a_shared_wheelhouse(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("sdist-only"), capsys, "--python", "3.11,3.12")
    variables = jobs["uvci-prefetch"]["variables"]
    assert variables["UV_PYTHON_DOWNLOADS"] == "automatic"  # may build for the other Python
    assert "UV_PYTHON_DOWNLOADS" not in jobs["uvci-test"]["variables"]  # cells: never (.uvci)
    pure = pipeline(locked_project("pure"), capsys, "--python", "3.11,3.12")
    assert "UV_PYTHON_DOWNLOADS" not in pure["uvci-prefetch"]["variables"]


def test_base_template_settings(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("pure"), capsys, "--torch-backend", "cpu")
    variables = jobs[".uvci"]["variables"]
    assert variables["UV_PYTHON_DOWNLOADS"] == "never"
    assert variables["CACHE_COMPRESSION_FORMAT"] == "tarzstd"
    assert variables["CACHE_COMPRESSION_LEVEL"] == "fastest"
    assert variables["FF_USE_FASTZIP"] == "true"
    assert variables["UV_TORCH_BACKEND"] == "cpu"
    assert all(job["extends"] == ".uvci" for name, job in jobs.items() if name != ".uvci")


def test_per_cell_layout_and_options(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("extras-groups")
    args = ["--python", "3.11,3.13", "--layout", "per-cell", "--all-extras", "--group", "lint"]
    args += ["--prepare-stage", "fetch", "--test-stage", "check", "--uvci-spec", "uvci>=0.1"]
    args += ["--test-command", "python -m unittest"]
    jobs = pipeline(project, capsys, *args)
    prefetch, test = jobs["uvci-prefetch"], jobs["uvci-test"]
    assert jobs["stages"] == ["fetch", "check"]
    assert (prefetch["stage"], test["stage"]) == ("fetch", "check")
    assert prefetch["parallel"]["matrix"] == [{"PYTHON": ["3.11", "3.13"]}]
    assert prefetch["cache"][0]["key"]["prefix"] == "uvci-wheels-py$PYTHON"
    assert prefetch["rules"][1]["changes"][-1] == ".gitlab/ci/uvci.yml"
    assert test["cache"][0]["fallback_keys"] == ["uvci-wheels-py$PYTHON-latest"]
    command = prefetch["script"][1]
    assert '--cell "$PYTHON"' in command and "--group=lint --all-extras" in command
    assert prefetch["variables"]["UVCI_SPEC"] == "uvci>=0.1"
    assert "<failure message" in test["script"][-1]  # not pytest: a one-case JUnit report
    musl = pipeline(project, capsys, "--platform", "x86_64-unknown-linux-musl")
    assert musl["uvci-test"]["image"].endswith("-python$PYTHON-alpine")


def test_compiled_project_is_built_in_every_cell(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("compiled")
    (project / "src" / "compiled_app" / "speedups.c").write_text("int x;\n")
    jobs = pipeline(project, capsys, "--python", "3.12")
    assert "uvci-build" not in jobs
    assert jobs["uvci-test"]["needs"] == [
        {"job": "uvci-prefetch", "artifacts": False, "optional": True}
    ]  # no uvci-build: without the prefetch job the cells need nothing
    assert (
        "uv pip install --python .uvci/venv/bin/python --no-deps ." in jobs["uvci-test"]["script"]
    )
    forced = pipeline(project, capsys, "--python", "3.12", "--project-wheel", "once")
    assert "uvci-build" in forced


def test_uv_version_from_required_version(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original + '\n[tool.uv]\nrequired-version = "==0.13.9"\n')
    jobs = pipeline(project, capsys, "--python", "3.12")
    assert jobs["uvci-test"]["image"] == "ghcr.io/astral-sh/uv:0.13.9-python$PYTHON-bookworm-slim"
    pyproject.write_text(original + '\n[tool.uv]\nrequired-version = "<0.1"\n')
    assert main(["generate", str(project), "--stdout"]) == 2
    err = capsys.readouterr().err.strip()  # the plan's lock check or ours: one line either way
    assert "<0.1" in err and "\n" not in err


def test_build_kind(tmp_path: Path) -> None:
    def project(name: str, backend: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        root.mkdir()
        (root / "pyproject.toml").write_text(f'[build-system]\nbuild-backend = "{backend}"\n')
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    assert build_kind(project("a", "uv_build", {"src/a/__init__.py": ""})).pure
    assert not build_kind(project("b", "maturin", {})).pure
    assert not build_kind(project("c", "hatchling", {"src/c/_x.pyx": ""})).pure
    assert not build_kind(
        project("d", "setuptools.build_meta", {"setup.py": "ext_modules=[]"})
    ).pure
    member = {"packages/m/pyproject.toml": "", "packages/m/m.c": "", ".venv/x.c": ""}
    assert build_kind(project("e", "hatchling.build", member)).pure  # a member's C is not ours


def test_build_kind_of_a_legacy_setup_py_package(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text('from setuptools import setup\nsetup(name="legacy")\n')
    kind = build_kind(tmp_path)  # no pyproject.toml: setuptools' legacy build, as pip and uv do
    assert kind.pure and kind.reason == "build backend setuptools (legacy), no native sources"
    (tmp_path / "setup.py").write_text("from setuptools import Extension\next_modules=[]\n")
    assert build_kind(tmp_path) == BuildKind(False, "setup.py declares extension modules")


def run_sh(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_unchanged_wheelhouse_is_moved_out_of_the_cache_paths(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    (tmp_path / ".uvci" / "uv-cache").mkdir()
    snippet = f"UV_CACHE_DIR=.uvci/uv-cache\n{sh.skip_unchanged_caches()}"
    first = run_sh(snippet, tmp_path)  # no stamp yet: saved, stamp written
    assert "wheelhouse changed: saving it" in first.stdout
    assert (tmp_path / ".uvci" / "wheels").is_dir() and (tmp_path / sh.LOCK_STAMP).is_file()
    (tmp_path / ".uvci" / "wheels.unchanged").write_text("")
    second = run_sh(snippet, tmp_path)  # prefetch says unchanged, stamp matches: moved away
    assert "wheelhouse unchanged: not saving it" in second.stdout
    assert not (tmp_path / ".uvci" / "wheels").exists() and not (tmp_path / sh.LOCK_STAMP).exists()
    assert not (tmp_path / ".uvci" / "uv-cache").exists()  # uvci came from the restored cache


def test_unchanged_content_for_another_lock_is_still_saved(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    (tmp_path / ".uvci" / "wheels.unchanged").write_text("")
    (tmp_path / sh.LOCK_STAMP).write_text("0" * 64 + "\n")  # restored via the fallback key
    (tmp_path / ".uvci" / "tool-cache.new").write_text("")
    result = run_sh(f"UV_CACHE_DIR=.uvci/uv-cache\n{sh.skip_unchanged_caches()}", tmp_path)
    assert "wheelhouse changed: saving it" in result.stdout
    assert (tmp_path / ".uvci" / "wheels").is_dir()
    assert (tmp_path / sh.LOCK_STAMP).read_text().strip() != "0" * 64


# records the fetch instead of running it: the real one is proven under gitlab-ci-local
FAKE_UVX = 'uvx() { echo "FETCH $*"; }\nPYTHON=3.12 UVCI_SPEC=uvci==9\n'
FETCH = "FETCH --from uvci==9 uvci prefetch --python 3.12 --cell 3.12"


@pytest.mark.parametrize(("stamp", "expected"), [(True, None), (False, "no wheelhouse for this")])
def test_cell_guard_fetches_when_the_wheelhouse_was_not_saved_for_this_lock(
    tmp_path: Path, stamp: bool, expected: str | None
) -> None:
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    (tmp_path / "uv.lock").write_text("version = 1\n")
    lock_sha = "$(sha256sum uv.lock | cut -d' ' -f1)" if stamp else "0"
    run_sh(f'echo "{lock_sha}" > {sh.LOCK_STAMP}', tmp_path)
    result = run_sh(FAKE_UVX + sh.wheelhouse_guard(["--python", "3.12"]), tmp_path)
    assert result.returncode == 0, result.stderr
    if expected is None:
        assert result.stdout == ""  # the stamp alone decides: no uvci, no request
    else:
        assert expected in result.stdout and FETCH in result.stdout


# how many of uv's calls fail (the first, then the retry) -> the step's exit code, whether it
# fetched the cell's files
INSTALL_CASES = [(0, 0, False), (1, 0, True), (2, 1, True)]


@pytest.mark.parametrize(("failures", "rc", "fetched"), INSTALL_CASES)
def test_failed_offline_install_fetches_the_cells_bad_files_and_installs_once_more(
    tmp_path: Path, failures: int, rc: int, fetched: bool
) -> None:
    fake_uv = (
        'uv() { n=$(cat calls 2>/dev/null || echo 0); echo $((n + 1)) > calls; echo "UV $*"; '
        f'[ "$n" -ge {failures} ]; }}\n'
    )
    result = run_sh(FAKE_UVX + fake_uv + sh.offline_install(["--python", "3.12"]), tmp_path)
    assert (result.returncode != 0) == bool(rc), result.stderr
    assert (FETCH in result.stdout) is fetched
    assert ("install from the restored wheelhouse failed" in result.stdout) is fetched
    installs = [line for line in result.stdout.splitlines() if line.startswith("UV pip install")]
    assert len(installs) == (2 if fetched else 1)
    assert "--offline --no-index --find-links .uvci/wheels" in installs[0]
    assert installs[0].endswith("-r .uvci/wheels/requirements-3.12.txt")


def test_junit_for_a_non_pytest_command(tmp_path: Path) -> None:
    (tmp_path / ".uvci").mkdir()
    result = run_sh(f"PYTHON=3.12\n{sh.run_tests('false')}", tmp_path)
    assert result.returncode == 1
    report = (tmp_path / sh.JUNIT).read_text()
    assert 'failures="1"' in report and 'name="python-3.12"' in report


def test_shell_quoting_keeps_variables_and_globs() -> None:
    assert sh.sh_join(["-r", ".uvci/wheels/requirements-$PYTHON.txt"]) == (
        '-r ".uvci/wheels/requirements-$PYTHON.txt"'
    )
    assert sh.sh_join([".uvci/dist/*.whl", "a b", "it's"]) == ".uvci/dist/*.whl 'a b' 'it'\"'\"'s'"
    assert sh.is_pytest("python -m pytest -x") and not sh.is_pytest("pytest-watch")
