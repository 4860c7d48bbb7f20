"""Issue 10, stale-lock and interpreter messages: uv.lock is blamed only when it is stale, with
uv's own account of the change; an unchecked lock is a warning with the fix, and `generate`
refuses it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from uvci.cli import main

PIPELINE = Path(".gitlab") / "ci" / "uvci.yml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(list(args))
    return rc, capsys.readouterr().err


def needs_314(project: Path) -> None:
    """requires-python >=3.14, which no local interpreter fits (the lock made elsewhere)."""
    for name in ("pyproject.toml", "uv.lock"):
        path = project / name
        path.write_text(re.sub(r'requires-python = ">=3\.10"', 'requires-python = ">=3.14"',
                               path.read_text()))  # fmt: skip


def test_no_local_interpreter_is_a_warning_and_generate_refuses(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    needs_314(project)
    rc, err = run(capsys, "plan", str(project))
    assert rc == 0, err
    warning = [line for line in err.splitlines() if line.startswith("uvci plan: warning:")]
    assert len(warning) == 1, err
    assert "uv.lock freshness not checked: no local Python fits requires-python" in warning[0]
    assert "No interpreter found for Python >=3.14" in warning[0]
    assert "uv python install" in warning[0]
    rc, err = run(capsys, "generate", str(project))
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"uvci generate: error: {project / 'uv.lock'}: freshness not checked, and a pipeline is "
        "generated only for a lock known to be fresh: no local Python fits"
    )
    assert not (project / PIPELINE).exists()


def test_an_interpreter_uv_cannot_inspect_is_not_blamed_on_the_lock(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    shim = tmp_path / "shims" / "python3.12"  # what a pyenv shim of an unselected version does
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("UV_PYTHON", str(shim))
    rc, err = run(capsys, "plan", str(locked_project("pure")))
    assert rc == 0, err
    assert "out of date" not in err
    assert "uv could not inspect the Python interpreter" in err and "pyenv shim" in err


def test_stale_lock_names_uvs_real_change(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("forked")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("forky<2", "forky<1.5"))
    rc, err = run(capsys, "plan", str(project))
    assert rc == 2
    line = err.strip()
    assert "\n" not in line and f"{project / 'uv.lock'}: out of date with" in line
    assert re.search(r"\[uv: Update forky v1\.5.* -> v1\.0", line), line
    assert "network was disabled" not in line and "No solution found" not in line


def test_a_failure_that_is_not_the_lock_says_so(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "0.5")  # uv reads whole seconds only
    project = locked_project("pure")
    rc, err = run(capsys, "plan", str(project))
    assert rc == 2
    line = err.strip()
    assert line.startswith(
        f"uvci plan: error: {project / 'pyproject.toml'}: `uv lock --check --offline` failed for "
        "a reason other than uv.lock: "
    )
    assert "UV_HTTP_TIMEOUT" in line and "out of date" not in line
