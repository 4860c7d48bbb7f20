"""The generated pipeline's structure, its shell snippets (run for real) and the build kind."""

from __future__ import annotations

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
from uvci.gitlab.generate import toolenv
from uvci.gitlab.generate.pipeline import GenerateOptions, LocalBuilds, Shape, build_jobs
from uvci.gitlab.generate.toolenv import NOT_IMPORTED_BY_PREFETCH, TOOL_ENV
from uvci.model.buildkind import BuildKind, build_kind
from uvci.model.testcommand import is_pytest

LockedProject = Callable[..., Path]
UNITTEST = ("--test-command", "python -m unittest")  # the test projects lock no pytest


def pipeline(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    spec = () if "--uvci-spec" in args else ("--uvci-spec", HASHED_SPEC)
    assert main(["generate", str(project), "--stdout", *UNITTEST, *spec, *args]) == 0
    text = capsys.readouterr().out
    assert gitlab_ci_errors(text) == []
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


def script(job: dict[str, Any]) -> str:
    return "\n".join(job["script"])


def test_one_stage_each_cell_owns_its_wheelhouse(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("compiled"), capsys, "--python", "3.10,3.12")
    assert [name for name in jobs if not name.startswith(".")] == ["uvci-test"]
    test = jobs["uvci-test"]
    assert test["stage"] == "test" and "needs" not in test
    assert test["image"] == "ghcr.io/astral-sh/uv:0.13.9-python$PYTHON-trixie-slim"
    assert test["parallel"]["matrix"] == [{"PYTHON": ["3.10", "3.12"]}]
    base, delta = test["cache"]
    for cache, part, path in ((base, "base", ".uvci/wheels"), (delta, "delta", sh.DELTA)):
        assert cache == {
            "key": f"uvci-v3-{part}-py$PYTHON-x86_64",
            "paths": [path],
            "policy": "pull-push",
            "when": "always",  # a fill survives failing tests: the job decides before they run
        }  # no fallback keys, no lock hash: the cell keeps the content right for any uv.lock
    steps = test["script"]
    moves = sh.keep_if_changed([[sh.WHEELHOUSE], [sh.DELTA]]) + "\n"
    assert steps.index(moves) < steps.index(sh.activate())
    assert steps[0] == 'cd "$CI_PROJECT_DIR"' and steps[1].startswith("uvci_n=0\n")  # clean first
    assert steps[2] == sh.work_dirs() + "\n"  # uv's cache and the venv out of the checkout
    text = script(test)
    # what to install comes from the checked-out lock, hashes included, never from the cache
    assert (
        "uv export --locked --quiet --no-header --no-emit-local -o .uvci/requirements.txt" in text
    )
    assert "--require-hashes -r .uvci/requirements.txt" in text
    assert "requirements-" not in text and "manifest" not in text
    fill = 'uvci_tool && "$uvci_work/tool/bin/uvci" prefetch --python 3.10,3.12 --base .uvci/wheels'
    fill += ' --wheelhouse .uvci/wheels-delta --cell "$PYTHON"'
    assert f"{fill} --retain 2x --no-build" in text and "uvx" not in text
    assert test["variables"]["UVCI_SPEC"] == HASHED_SPEC  # a wheel pinned by its hash
    assert "pytest" not in text and "python -m unittest" in text


def test_base_template_settings(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("pure"), capsys, "--python", "3.12", "--torch-backend", "cpu")
    variables = jobs[".uvci"]["variables"]
    assert variables["UV_PYTHON_DOWNLOADS"] == "never"
    assert "UV_CACHE_DIR" not in variables  # set by the script, beside the checkout
    assert variables["UV_LINK_MODE"] == "hardlink"
    assert variables["CACHE_COMPRESSION_FORMAT"] == "zip"  # stored (fastest): measured
    assert variables["CACHE_COMPRESSION_LEVEL"] == "fastest"
    assert variables["FF_USE_PARALLEL_CACHE_TRANSFER"] == "true"
    assert variables["UV_TORCH_BACKEND"] == "cpu"
    assert "SETUPTOOLS_SCM_PRETEND_VERSION" not in variables


def test_shared_layout_has_one_writer(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(locked_project("pure"), capsys, "--python", "3.10,3.12", "--layout", "shared")
    writer, readers = jobs["uvci-test-writer"], jobs["uvci-test"]
    assert writer["variables"]["PYTHON"] == "3.12" and "parallel" not in writer
    assert readers["parallel"]["matrix"] == [{"PYTHON": ["3.10"]}]
    for job, policy in ((writer, "pull-push"), (readers, "pull")):
        base, delta = job["cache"]
        assert base["key"] == "uvci-v3-base-all-x86_64" and base["policy"] == policy
        assert delta["key"] == "uvci-v3-delta-all-x86_64" and delta["policy"] == policy
        assert base["paths"] == [".uvci/wheels"]
        assert delta["paths"] == [sh.DELTA, sh.FILLED_FOR]  # a new lock uploads the delta
    # the writer fills for every cell of a new lock; a reader fetches only what it lacks
    assert 'uvci" prefetch --python 3.10,3.12 --base .uvci/wheels --wheelhouse' in script(writer)
    assert "sha256sum uv.lock" in script(writer) and "--cell" not in script(writer)
    assert "sha256sum uv.lock" not in script(readers) and "--cell" in script(readers)
    assert "nothing to upload" in script(writer) and "nothing to upload" not in script(readers)


def test_build_once_adds_a_build_job(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    jobs = pipeline(
        project, capsys, "--python", "3.10,3.12", "--build-once", "--layout", "per-cell"
    )
    build, test = jobs["uvci-build"], jobs["uvci-test"]
    assert build["stage"] == "build" and build["image"].endswith("-python3.12-trixie-slim")
    assert [c["policy"] for c in build["cache"]] == ["pull", "pull"]
    assert [c["key"] for c in build["cache"]] == [
        "uvci-v3-base-py3.12-x86_64", "uvci-v3-delta-py3.12-x86_64"
    ]  # fmt: skip
    assert build["artifacts"]["paths"] == [".uvci/dist/"]
    assert test["needs"] == [{"job": "uvci-build", "artifacts": True}]
    assert "uv build" not in script(test) and ".uvci/dist/*.whl" in script(test)
    default = pipeline(project, capsys, "--python", "3.12", "--layout", "per-cell")
    assert "uvci-build" not in default
    both = "--find-links .uvci/wheels --find-links .uvci/wheels-delta"
    assert f"uv build --offline --no-index {both}" in script(default["uvci-test"])


def test_selection_flags_reach_the_export(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = pipeline(
        locked_project("extras-groups"), capsys, "--python", "3.12", "--extra", "color",
        "--no-dev", "--layout", "per-cell",
    )  # fmt: skip
    text = script(jobs["uvci-test"])
    assert "uv export --locked --quiet --no-header --no-emit-local --extra=color --no-dev" in text
    assert 'uvci" prefetch --python 3.12 --extra=color --no-dev --base' in text


def test_uv_version_from_required_version(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original + '\n[tool.uv]\nrequired-version = "==0.13.9"\n')
    jobs = pipeline(project, capsys, "--python", "3.12", "--layout", "per-cell")
    assert jobs["uvci-test"]["image"] == "ghcr.io/astral-sh/uv:0.13.9-python$PYTHON-trixie-slim"
    pyproject.write_text(original + '\n[tool.uv]\nrequired-version = "<0.1"\n')
    assert main(["generate", str(project), "--stdout", *UNITTEST]) == 2
    err = capsys.readouterr().err.strip()  # the plan's lock check or ours: one line either way
    assert "<0.1" in err and "\n" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--test-command", "pytest -x"), "pytest is not in uv.lock"),
        (("--retain", "lots"), "--retain 'lots'"),
    ],
)
def test_refused_options_are_one_line(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    expected: str,
) -> None:  # fmt: skip
    project = locked_project("pure")
    capsys.readouterr()
    argv = ["generate", str(project), "--stdout", "--python", "3.12", *UNITTEST, *args]
    assert main([*argv, "--uvci-spec", HASHED_SPEC]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and captured.err.count("\n") == 1 and captured.out == ""


def test_images_exist_only_for_published_uv_versions() -> None:
    from uvci.errors import FatalError
    from uvci.gitlab.generate.images import check_images

    check_images("0.13.9", ["3.9", "3.14"], "trixie-slim")
    with pytest.raises(FatalError, match=r"uv 0\.9\.30: uvci's jobs run in uv's trixie images"):
        check_images("0.9.30", ["3.12"], "trixie-slim")
    with pytest.raises(FatalError, match="no alpine image"):
        check_images("0.13.9", ["3.9"], "alpine")


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


# records the fetch instead of running it: the real one is proven in containers
FAKE_UVX = 'uvx() { echo "FETCH $*"; }\nPYTHON=3.12 UVCI_SPEC=uvci==9\n'
FILL = sh.prefetch_command(["--python", "3.12"], ["$PYTHON"], ["--retain", "2x"], None)
FETCH = "FETCH --from uvci==9 uvci prefetch --python 3.12 --base .uvci/wheels --wheelhouse"
FILLS = sh.fill_function(FILL) + "\n"
# how many of the install's calls fail (the first, then the retry) -> the step's exit code,
# whether it fetched
INSTALL_CASES = [(0, 0, False), (1, 0, True), (2, 1, True)]


@pytest.mark.parametrize(("failures", "rc", "fetched"), INSTALL_CASES)
def test_a_failed_offline_install_fetches_what_is_missing_and_installs_once_more(
    tmp_path: Path, failures: int, rc: int, fetched: bool
) -> None:
    restored_wheelhouse(tmp_path)
    fake_install = (
        "uvci_install() { n=$(cat calls 2>/dev/null || echo 0); echo $((n + 1)) > calls; "
        f'echo INSTALL; echo "error: not offline {failures}" >&2; [ "$n" -ge {failures} ]; }}\n'
    )
    result = run_sh(FAKE_UVX + fake_install + FILLS + sh.install_or_fill(), tmp_path)
    assert (result.returncode != 0) == bool(rc), result.stderr
    assert (FETCH in result.stdout) is fetched
    assert result.stdout.count("INSTALL") == (2 if fetched else 1)
    assert (tmp_path / sh.CHANGED).exists() is fetched
    assert (tmp_path / (sh.DELTA + ".changed")).exists() is fetched
    # uv's answer to the offline attempt is quoted as uv's, before uvci says it fetches
    assert ("  uv: error: not offline" in result.stdout) is fetched
    assert ("installed offline from the restored wheelhouse" in result.stdout) is not fetched


def restored_wheelhouse(root: Path) -> None:
    (root / sh.WHEELHOUSE).mkdir(parents=True)
    (root / sh.WHEELHOUSE / "manifest.json").write_text("{}")


def test_a_cold_cell_fetches_first_and_shows_no_uv_error(tmp_path: Path) -> None:
    (tmp_path / sh.WHEELHOUSE).mkdir(parents=True)  # present (work_dirs), never filled
    (tmp_path / sh.DELTA).mkdir(parents=True)
    fake_install = 'uvci_install() { echo INSTALL; [ -f installable ] || echo "error: x" >&2; }\n'
    fake_fill = 'uvx() { echo "FETCH $*"; touch installable; }\nPYTHON=3.12 UVCI_SPEC=uvci==9\n'
    result = run_sh(fake_fill + fake_install + FILLS + sh.install_or_fill(), tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("uvci: no wheelhouse was restored") and FETCH in lines[1]
    assert result.stdout.count("INSTALL") == 1 and "error" not in result.stdout + result.stderr


def test_a_fill_that_changed_nothing_leaves_nothing_to_upload(tmp_path: Path) -> None:
    restored_wheelhouse(tmp_path)
    unchanged = (
        'uvx() { echo "FETCH $*"; touch .uvci/wheels.unchanged .uvci/wheels-delta.unchanged; }\n'
    )
    fails_once = "uvci_install() { [ -f done ] || { touch done; false; }; }\n"
    result = run_sh(unchanged + fails_once + FILLS + sh.install_or_fill(), tmp_path)
    assert result.returncode == 0 and "FETCH" in result.stdout, result.stderr
    assert not (tmp_path / sh.CHANGED).exists()  # e.g. the project's own build had failed
    assert not (tmp_path / (sh.DELTA + ".changed")).exists()


def test_the_install_function_checks_every_hash_offline(tmp_path: Path) -> None:
    fake_uv = 'uv() { echo "UV $*"; }\nuvci_work=/W\n'
    function = sh.install_function(["."], prebuilt=False)
    result = run_sh(fake_uv + function + "\nuvci_install", tmp_path)
    calls = result.stdout.splitlines()
    assert len(calls) == 3, result.stderr
    offline = "--offline --no-index --find-links .uvci/wheels --find-links .uvci/wheels-delta"
    hashes = "--build-constraint .uvci/build-requirements.txt --require-hashes"
    assert calls[0].startswith("UV pip install --python /W/venv/bin/python " + offline)
    assert calls[0].endswith(f"{hashes} -r .uvci/requirements.txt")
    assert calls[1] == f"UV build {offline} {hashes} --wheel --out-dir .uvci/dist ."
    assert calls[2].endswith("--no-deps .uvci/dist/*.whl")


@pytest.mark.parametrize("changed", [(), (sh.WHEELHOUSE,), (sh.DELTA,), sh.WHEELHOUSES])
def test_each_wheelhouse_is_left_for_upload_only_when_this_job_changed_it(
    tmp_path: Path, changed: tuple[str, ...]
) -> None:
    for path in sh.WHEELHOUSES:
        (tmp_path / path).mkdir(parents=True)
    for path in changed:
        (tmp_path / (path + ".changed")).write_text("")
    result = run_sh(sh.keep_if_changed([[p] for p in sh.WHEELHOUSES]), tmp_path)
    assert result.returncode == 0, result.stderr
    for path in sh.WHEELHOUSES:
        assert (tmp_path / path).is_dir() is (path in changed)
    assert result.stdout.count("nothing to upload") == 2 - len(changed)


def test_the_writer_fills_only_for_a_lock_it_did_not_fill_for_lately(tmp_path: Path) -> None:
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    snippet = FAKE_UVX + FILLS + sh.writer_fill()
    delta_changed = tmp_path / (sh.DELTA + ".changed")

    def pipeline_on(lock: str) -> bool:
        """One writer run on this uv.lock: True when it filled (and marked the change)."""
        (tmp_path / "uv.lock").write_text(f"version = 1\n# {lock}\n")
        delta_changed.unlink(missing_ok=True)
        result = run_sh(snippet, tmp_path)
        assert result.returncode == 0, result.stderr
        assert (FETCH in result.stdout) is delta_changed.exists()  # FILLED_FOR is the delta's
        return FETCH in result.stdout

    assert pipeline_on("A") and not pipeline_on("A")
    assert pipeline_on("B") and not pipeline_on("A")  # two branches, A, B, A: no refill
    assert not pipeline_on("B")
    assert pipeline_on("C") and pipeline_on("A")  # only the last two locks are remembered
    remembered = (tmp_path / sh.FILLED_FOR).read_text().split()
    assert len(remembered) == sh.REMEMBERED_LOCKS and all(len(h) == 64 for h in remembered)


def test_the_writer_forgets_an_old_style_record(tmp_path: Path) -> None:
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / sh.FILLED_FOR).write_text("version = 1\n")  # a copy of uv.lock (uvci <= 0.1.0)
    result = run_sh(FAKE_UVX + FILLS + sh.writer_fill(), tmp_path)
    assert FETCH in result.stdout, result.stderr


# uv's calls recorded; `pip install --offline` fails when OFFLINE_FAILS is set
FAKE_UV = (
    'uv() { echo "UV $*"; case "$*" in *"pip install"*--offline*) [ -z "$OFFLINE_FAILS" ];; '
    "esac; }\nPYTHON=3.12 uvci_work=/W\n"
)


@pytest.mark.parametrize("in_wheelhouse", [True, False])
def test_uvci_installs_by_hash_from_the_wheelhouse_else_from_the_index_unresolved(
    tmp_path: Path, in_wheelhouse: bool
) -> None:
    setting = "" if in_wheelhouse else "OFFLINE_FAILS=1\n"
    snippet = FAKE_UV + setting + sh.tool_function(".gitlab/ci/uvci-tool") + "\nuvci_tool"
    result = run_sh(snippet, tmp_path)
    assert result.returncode == 0, result.stderr
    calls = [line for line in result.stdout.splitlines() if line.startswith("UV ")]
    export = "UV export --locked --quiet --no-header --project .gitlab/ci/uvci-tool"
    left_out = "".join(f" --no-emit-package {name}" for name in NOT_IMPORTED_BY_PREFETCH)
    assert calls[0] == (
        f"{export} --no-emit-project --emit-index-url -o {sh.TOOL_REQUIREMENTS}{left_out}"
    )
    assert calls[1] == "UV venv --quiet --clear --python 3.12 /W/tool"
    installs = calls[2:]
    assert len(installs) == (1 if in_wheelhouse else 2)
    assert all("--require-hashes --no-deps -r .uvci/tool-requirements.txt" in c for c in installs)
    assert all(c.startswith("UV pip install --no-config ") for c in installs)  # not the project's
    assert "--offline --no-index --find-links .uvci/wheels --find-links" in installs[0]
    assert in_wheelhouse or "--offline" not in installs[1]  # the index, nothing to resolve


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
    assert is_pytest("python -m pytest -x") and not is_pytest("pytest-watch")


@pytest.mark.parametrize("layout", ["per-cell", "shared"])
def test_with_uvci_locked_beside_the_pipeline_a_fetching_cell_installs_it_by_hash(
    layout: str,
) -> None:
    opts = GenerateOptions("0.13.9", "uvci==1.2.3", ("--python", "3.10,3.12"), tool_env=True)
    jobs = build_jobs(Shape(("3.10", "3.12"), LocalBuilds((), ()), layout), opts)
    tested = [jobs[name] for name in ("uvci-test-writer", "uvci-test") if name in jobs]
    assert len(tested) == (2 if layout == "shared" else 1)
    for job in tested:
        text = script(job)
        assert "UVCI_SPEC" not in job["variables"] and "uvx" not in text  # the lock pins uvci
        assert sh.tool_function(TOOL_ENV) in text
        fill = 'uvci_tool && "$uvci_work/tool/bin/uvci" prefetch --python 3.10,3.12'

        assert f"--tool-env {TOOL_ENV}" in text and text.count(fill) >= 1
    if layout == "shared":  # the writer's fallback fills for every cell too
        assert "--cell" not in script(jobs["uvci-test-writer"])
        assert '--cell "$PYTHON"' in script(jobs["uvci-test"])


@pytest.mark.parametrize(
    ("spec", "lockable"),
    [("uvci==1.2.3", True), ("uvci>=1", False), (".", False), ("uvci @ https://x/u.whl", False),
     ("other==1", False)],
)  # fmt: skip
def test_only_a_pinned_uvci_release_is_locked(spec: str, lockable: bool) -> None:
    assert toolenv.lockable(spec) is lockable


@pytest.mark.parametrize("layout", ["per-cell", "shared"])
def test_every_cached_path_is_named_in_restored_paths(layout: str) -> None:
    opts = GenerateOptions("0.13.9", "uvci==1.2.3", ("--python", "3.10,3.12"))
    jobs = build_jobs(Shape(("3.10", "3.12"), LocalBuilds((), ()), layout), opts)
    cached = {
        p for job in jobs.values() if "cache" in job for c in job["cache"] for p in c["paths"]
    }
    assert cached <= set(sh.RESTORED_PATHS) and set(sh.WHEELHOUSES) <= cached
