"""uvci.runner.interpreters: pyenv versions, uv-managed dirs, PATH, each probed for real."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from uvci.runner.interpreters import Interpreter, Missing, ProbeCache, find_interpreter, probe


def _link(target: Path, link: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def test_each_installed_python_is_found_and_verified(each_python: tuple[str, Path]) -> None:
    minor, _ = each_python
    found = find_interpreter(minor, None)
    assert isinstance(found, Interpreter)
    assert found.python == minor and found.version.startswith(f"{minor}.")


def test_pyenv_root_is_searched_newest_patch_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pythons: dict[str, Path]
) -> None:
    minor, real = next(iter(pythons.items()))
    root = tmp_path / "pyenv"
    _link(real, root / "versions" / f"{minor}.1" / "bin" / "python")
    newest = _link(real, root / "versions" / f"{minor}.30" / "bin" / "python")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "")
    found = find_interpreter(minor, None)
    assert isinstance(found, Interpreter) and found.path == newest


def test_uv_managed_dir_is_searched_skipping_freethreaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pythons: dict[str, Path]
) -> None:
    minor, real = next(iter(pythons.items()))
    managed = tmp_path / "uv-python"
    _link(real, managed / f"cpython-{minor}.9+freethreaded-linux-x86_64-gnu" / "bin" / "python3")
    chosen = _link(real, managed / f"cpython-{minor}.8-linux-x86_64-gnu" / "bin" / "python3")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "")
    found = find_interpreter(minor, managed)
    assert isinstance(found, Interpreter) and found.path == chosen


def test_path_is_searched_but_pyenv_shims_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pythons: dict[str, Path]
) -> None:
    minor, real = next(iter(pythons.items()))
    shim = _link(real, tmp_path / "pyenv" / "shims" / f"python{minor}")
    on_path = _link(real, tmp_path / "bin" / f"python{minor}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", os.pathsep.join([str(shim.parent), str(on_path.parent)]))
    found = find_interpreter(minor, None)
    assert isinstance(found, Interpreter) and found.path == on_path


def test_a_mislabelled_interpreter_is_rejected_by_the_probe(
    tmp_path: Path, pythons: dict[str, Path]
) -> None:
    if len(pythons) < 2:
        pytest.skip("needs two installed Pythons")
    (minor, real), (other, _) = list(pythons.items())[:2]
    assert probe(real, other) is None
    found = probe(real, minor)
    assert found is not None and found.python == minor


def test_missing_python_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "")
    found = find_interpreter("3.15", tmp_path)
    assert isinstance(found, Missing)
    assert "no Python 3.15 installed" in found.reason and "uv python install 3.15" in found.reason


def test_probe_cache_answers_for_an_unchanged_binary_and_reprobes_a_changed_one(
    tmp_path: Path, pythons: dict[str, Path]
) -> None:
    minor, real = next(iter(pythons.items()))
    cache_file = tmp_path / "interpreters.json"
    cache = ProbeCache(cache_file)
    first = cache.probe(real, minor)
    assert first is not None
    cache.save()
    # A stand-in binary that is no Python at all: only the cache can call it one.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    key = ProbeCache.key(fake)
    assert key is not None
    cache_file.write_text(json.dumps({key: first.version}))
    cached = ProbeCache(cache_file).probe(fake, minor)
    assert cached is not None and cached.version == first.version  # answered without running
    os.utime(fake, ns=(0, 0))  # changed binary: probed for real, and rejected
    assert ProbeCache(cache_file).probe(fake, minor) is None
