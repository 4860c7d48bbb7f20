"""`uvci generate`: the cells run uvci only pinned by hash, and nothing is written or shown
through a link out of the project. Refusals are one line, exit 2, with nothing written."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from subprocess import CompletedProcess
from types import SimpleNamespace

import pytest

from tests.support.dists import build_wheel
from tests.support.pyindex import LoopbackIndex
from tests.support.uvcispec import HASHED_SPEC
from uvci.cli import main
from uvci.errors import FatalError
from uvci.gitlab.generate import release
from uvci.gitlab.generate import scripts as sh
from uvci.gitlab.generate.uvcispec import spec_kind
from uvci.util.atomicfile import file_sha256

LockedProject = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]
ARGS = ("--python", "3.12", "--test-command", "python -m unittest")
SECRET = "password=hunter2 of a file outside the project\n"


def generate(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["generate", str(project), *ARGS, *args])
    captured = capsys.readouterr()
    return rc, captured.err + captured.out


def one_line_refusal(rc: int, output: str) -> str:
    assert rc == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("uvci generate: error: "), output
    return lines[0]


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("uvci==1.2.3", "release"),
        (HASHED_SPEC, "url"),
        ("uvci @ http://127.0.0.1:8000/uvci-1-py3-none-any.whl#sha256=" + "a" * 64, "url"),
        (".", "checkout"),
        ("./", "checkout"),
    ],
)
def test_a_spec_pinned_by_hash_is_accepted(spec: str, kind: str) -> None:
    assert spec_kind(spec, REPO) == kind


@pytest.mark.parametrize(
    "spec",
    [
        "uvci",  # whatever the index serves
        "uvci>=0.1",
        "uvci @ https://example.invalid/uvci-0.1.0-py3-none-any.whl",  # no hash
        "uvci @ https://example.invalid/u.whl#sha256=" + "0" * 63,
        "uvci @ https://example.invalid/u.whl#sha256=" + "G" * 64,
        "uvci @ https://example.invalid/u.whl #sha256=" + "0" * 64,  # a comment in a req file
        "uvci @ https://example.invalid/u.whl#md5=0",
        "evil @ https://example.invalid/u.whl#sha256=" + "0" * 64,
        "git+https://example.invalid/uvci.git",
        "/somewhere/uvci",  # outside the project
        "..",
        "src",  # inside, but not uvci's own checkout
    ],
)
def test_a_spec_not_pinned_by_hash_is_refused_naming_the_fix(spec: str) -> None:
    with pytest.raises(FatalError) as raised:
        spec_kind(spec, REPO)
    message = str(raised.value)
    assert "not pinned by hash" in message and "#sha256=" in message
    assert "docs/release.md" in message and "\n" not in message


def test_a_checkout_of_another_project_is_not_uvci(locked_project: LockedProject) -> None:
    with pytest.raises(FatalError):
        spec_kind(".", locked_project("pure"))


def fake_unreleased(name: str) -> SimpleNamespace:
    files = {"direct_url.json": '{"url": "file:///checkout"}'}
    return SimpleNamespace(version="0.1.0", read_text=files.get)


@pytest.mark.parametrize("stdout", [False, True])
def test_an_unreleased_default_is_refused_not_run_unpinned(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, stdout: bool,
) -> None:  # fmt: skip
    """The index has no uvci 0.1.0: no lock, so no `uvx --from uvci==0.1.0` either."""
    project = locked_project("pure")
    monkeypatch.setattr(release, "distribution", fake_unreleased)
    rc, output = generate(capsys, project, *(["--stdout"] if stdout else []))
    line = one_line_refusal(rc, output)
    assert "--uvci-spec uvci==" in line and "cannot lock it with hashes" in line
    assert "not a released version (installed from file:///checkout" in line
    assert "#sha256=" in line and "docs/release.md" in line
    assert not (project / ".gitlab").exists() and not (project / ".gitlab-ci.yml").exists()


def test_an_unpinned_spec_is_refused_before_anything_is_written(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    rc, output = generate(capsys, project, "--uvci-spec", "uvci @ https://example.invalid/u.whl")
    assert "not pinned by hash" in one_line_refusal(rc, output)
    assert not (project / ".gitlab").exists() and not (project / ".gitlab-ci.yml").exists()


def test_a_component_needs_a_hashed_wheel(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    target = tmp_path / "component"
    rc, output = generate(capsys, project, "--component", str(target), "--uvci-spec", "uvci==1.0")
    assert "uvci-spec input" in one_line_refusal(rc, output)
    assert not target.exists()
    rc, output = generate(capsys, project, "--component", str(target), "--uvci-spec", HASHED_SPEC)
    assert rc == 0, output
    text = (target / "templates" / "uvci.yml").read_text()
    assert "uvci_tool() {" in text and "uvx" not in text  # the cells check the input's hash


def test_a_hashed_wheel_is_installed_with_its_hash_checked_never_by_uvx(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    rc, output = generate(capsys, project, "--stdout", "--uvci-spec", HASHED_SPEC)
    assert rc == 0, output
    assert "uvx" not in output and sh.url_tool_function() in output.replace("\n      ", "\n")
    assert 'uvci_tool && "$uvci_work/tool/bin/uvci" prefetch' in output
    header = next(line for line in output.splitlines() if line.startswith("#   "))
    assert header.startswith("#   uvci generate ") and "--uvci-spec" in header


FAKE_UV = 'uv() { echo "UV $*"; }\nPYTHON=3.12\nuvci_work=.uvci-work\n'


SHELLS = [["sh"], *([["busybox", "sh"]] if shutil.which("busybox") else [])]  # alpine: ash


def run_tool(spec: str, cwd: Path, shell: Sequence[str] = ("sh",)) -> CompletedProcess[str]:
    (cwd / ".uvci").mkdir(exist_ok=True)
    script = f"{FAKE_UV}UVCI_SPEC='{spec}'\n{sh.url_tool_function()}\nuvci_tool"
    return subprocess.run([*shell, "-c", script], cwd=cwd, capture_output=True, text=True,
                          check=False)  # fmt: skip


def test_the_cells_install_the_hashed_wheel_with_uv_pip_which_checks_it(tmp_path: Path) -> None:
    result = run_tool(HASHED_SPEC, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / sh.TOOL_REQUIREMENTS).read_text() == HASHED_SPEC + "\n"
    calls = result.stdout.splitlines()
    python = ".uvci-work/tool/bin/python"  # the tool env beside the checkout ($uvci_work)
    assert calls[-1] == f"UV pip install --python {python} -r {sh.TOOL_REQUIREMENTS}"


@pytest.mark.parametrize(
    "spec",
    [
        "uvci==0.1.0",  # a catalog component's input may be anything
        "uvci @ https://example.invalid/u.whl",
        "uvci @ https://example.invalid/u.whl #sha256=" + "0" * 64,
        "uvci @ https://example.invalid/u.whl#x#sha256=" + "0" * 64,
        "uvci @ https://example.invalid/u.whl#sha256=" + "0" * 63,
        "uvci @ https://example.invalid/u.whl#sha256=" + "0" * 63 + "g",
        "evil @ https://example.invalid/u.whl#sha256=" + "0" * 64,
    ],
)
@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_the_cells_refuse_a_spec_without_its_hash(
    tmp_path: Path, spec: str, shell: list[str]
) -> None:
    result = run_tool(spec, tmp_path, shell)
    assert result.returncode == 2
    assert "UV " not in result.stdout and "pinned by its hash" in result.stdout
    assert not (tmp_path / sh.TOOL_REQUIREMENTS).exists()


@pytest.mark.parametrize("linked", [".gitlab", ".gitlab/ci", ".gitlab/ci/uvci.yml"])
def test_a_link_out_of_the_project_is_refused_and_nothing_outside_is_written_or_shown(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    linked: str,
) -> None:  # fmt: skip
    project = locked_project("pure")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "ci").mkdir(parents=True)
    (elsewhere / "uvci.yml").write_text(SECRET)
    (elsewhere / "ci" / "uvci.yml").write_text(SECRET)
    before = sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*"))
    (project / linked).parent.mkdir(parents=True, exist_ok=True)
    target = {".gitlab": elsewhere, ".gitlab/ci": elsewhere / "ci"}.get(linked)
    (project / linked).symlink_to(target or elsewhere / "uvci.yml")
    rc, output = generate(capsys, project, "--uvci-spec", HASHED_SPEC)
    line = one_line_refusal(rc, output)
    assert f"{project / linked}: a link out of the project" in line
    assert "hunter2" not in output
    assert sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*")) == before
    assert (elsewhere / "ci" / "uvci.yml").read_text() == SECRET
    assert not (project / ".gitlab-ci.yml").exists()


def test_a_link_inside_the_project_is_replaced_not_written_through(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    (project / "ci-main.yml").write_text("include:\n  - local: .gitlab/ci/uvci.yml\n")
    (project / ".gitlab-ci.yml").symlink_to("ci-main.yml")
    rc, output = generate(capsys, project, "--uvci-spec", HASHED_SPEC)
    assert rc == 0, output
    assert (project / ".gitlab" / "ci" / "uvci.yml").is_file()


def test_a_fifo_at_the_pipeline_path_is_refused_not_read(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    project = locked_project("pure")
    (project / ".gitlab" / "ci").mkdir(parents=True)
    os.mkfifo(project / ".gitlab" / "ci" / "uvci.yml")
    rc, output = generate(capsys, project, "--uvci-spec", HASHED_SPEC)
    assert "not a regular file" in one_line_refusal(rc, output)


def test_a_linked_component_target_is_refused(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = locked_project("pure")
    component = tmp_path / "component"
    component.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (component / "templates").symlink_to(tmp_path / "elsewhere")
    rc, output = generate(capsys, project, "--component", str(component), "--uvci-spec",
                          HASHED_SPEC)  # fmt: skip
    assert "a link out of the project" in one_line_refusal(rc, output)
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("right", [True, False])
def test_real_uv_installs_the_hashed_wheel_only_when_its_hash_matches(
    tmp_path: Path, make_index: Callable[..., LoopbackIndex], uv_env: dict[str, str],
    pythons: dict[str, Path], right: bool,
) -> None:  # fmt: skip
    """The cells' `uvci_tool`, with the real uv: a wrong `#sha256=` fails the install (`uvx
    --from` would ignore it)."""
    if not pythons:
        pytest.skip("no CPython installed")
    index = make_index()
    wheel = build_wheel(index.catalog.directory, "uvci", "9.9", module_source="X = 1\n")
    digest = file_sha256(wheel) if right else "0" * 64
    spec = f"uvci @ {index.base}/files/{wheel.name}#sha256={digest}"
    (tmp_path / ".uvci").mkdir()
    python = next(iter(pythons.values()))
    env = {**uv_env, "UVCI_SPEC": spec, "PYTHON": str(python), "UV_INDEX_URL": index.url,
           "uvci_work": str(tmp_path / "work")}  # fmt: skip
    script = f"{sh.url_tool_function()}\nuvci_tool"
    result = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, check=False, timeout=120)  # fmt: skip
    installed = list((tmp_path / "work" / "tool").glob("lib/python*/site-packages/uvci*"))
    assert (result.returncode == 0) is right, result.stderr
    assert bool(installed) is right
    assert right or "Hash mismatch" in result.stderr
