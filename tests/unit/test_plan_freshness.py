"""The lock-freshness check runs while uv.lock is parsed, and is still done: its verdict, its
own failures and the lock's errors all reach the caller (uv is faked by UVCI_UV)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from uvci import planning
from uvci.errors import FatalError
from uvci.planning import make_plan

FORKED = Path(__file__).parents[1] / "data" / "locks" / "forked"


def fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, rc: int, err: str) -> Path:
    """A uv that takes 0.3 s, says ``err`` and exits ``rc``; returns the file it writes last."""
    done = tmp_path / "uv-finished"
    script = tmp_path / "uv"
    script.write_text(f"#!/bin/sh\nsleep 0.3\necho '{err}' >&2\ntouch '{done}'\nexit {rc}\n")
    script.chmod(0o755)
    monkeypatch.setenv("UVCI_UV", str(script))
    return done


def project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FORKED, root)
    return root


def test_the_lock_is_parsed_while_uv_checks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = fake_uv(tmp_path, monkeypatch, rc=0, err="")
    checking: list[bool] = []
    load_lock = planning.load_lock

    def spy(path: Path) -> planning.Lock:
        checking.append(any(t.name == "uv-lock-check" for t in threading.enumerate()))
        return load_lock(path)

    monkeypatch.setattr(planning, "load_lock", spy)
    result = make_plan(project_copy(tmp_path), python=["3.12"])
    assert checking == [True] and done.exists()
    assert result.lock_unchecked is None and len(result.cells) == 1


def test_a_stale_lock_found_meanwhile_is_still_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_uv(tmp_path, monkeypatch, rc=1, err="error: The lockfile needs to be updated")
    root = project_copy(tmp_path)
    with pytest.raises(FatalError, match=r"uv\.lock: out of date with .*pyproject\.toml"):
        make_plan(root, python=["3.12"])


def test_an_unreadable_lock_is_its_own_error_once_uv_has_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = fake_uv(tmp_path, monkeypatch, rc=1, err="error: The lockfile needs to be updated")
    root = project_copy(tmp_path)
    (root / "uv.lock").write_text("version = [\n")
    with pytest.raises(FatalError, match="invalid TOML"):
        make_plan(root, python=["3.12"])
    assert done.exists()  # uv was waited for, not left running behind the error
    assert not any(t.name == "uv-lock-check" for t in threading.enumerate())


def test_a_failure_inside_the_check_thread_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> planning.Result:
        raise PermissionError("uv: not executable")

    monkeypatch.setattr(planning, "run_uv", broken)
    with pytest.raises(PermissionError, match="not executable"):
        make_plan(project_copy(tmp_path), python=["3.12"])
