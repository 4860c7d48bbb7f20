"""A tool env uv could not lock is undone: only what uvci wrote there is removed."""

from __future__ import annotations

from pathlib import Path

from uvci.gitlab.generate import toolenv

TEXT = toolenv.pyproject_text("uvci==0.1.0", ("3.11", "3.12"), {})


def test_uvcis_own_unlocked_env_is_removed_whole(tmp_path: Path) -> None:
    directory = tmp_path / "uvci-tool"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(TEXT)
    toolenv.remove_unlocked(directory, TEXT)
    assert not directory.exists()


def test_files_uvci_did_not_write_stay(tmp_path: Path) -> None:
    directory = tmp_path / "uvci-tool"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(TEXT)
    (directory / "notes.txt").write_text("mine\n")
    toolenv.remove_unlocked(directory, TEXT)
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]


def test_an_edited_pyproject_or_a_lock_is_kept(tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "pyproject.toml").write_text(TEXT + "# mine\n")
    toolenv.remove_unlocked(edited, TEXT)
    assert (edited / "pyproject.toml").read_text() == TEXT + "# mine\n"
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "pyproject.toml").write_text(TEXT)
    (locked / "uv.lock").write_text("version = 1\n")
    toolenv.remove_unlocked(locked, TEXT)
    assert sorted(p.name for p in locked.iterdir()) == ["pyproject.toml", "uv.lock"]
