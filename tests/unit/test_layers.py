"""The layer contract (scripts/check_layers.py) holds for uvci and catches what crosses it."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts/check_layers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uvci_keeps_its_layers() -> None:
    assert _checker().violations(ROOT / "src" / "uvci") == []


def test_a_crossing_import_is_named_with_file_and_line(tmp_path: Path) -> None:
    src = tmp_path / "src" / "uvci"
    shutil.copytree(ROOT / "src" / "uvci", src)
    images = src / "gitlab" / "generate" / "images.py"
    lines = len(images.read_text().splitlines())
    images.write_text(images.read_text() + "from uvci.runner import builds\n")
    lock = src / "model" / "lock.py"
    lock.write_text(
        lock.read_text() + "\n\ndef f() -> None:\n    import uvci.wheelhouse.download\n"
    )
    found = _checker().violations(src)
    assert found == [
        f"src/uvci/gitlab/generate/images.py:{lines + 1}: uvci.gitlab.generate must not import "
        "uvci.runner",
        f"src/uvci/model/lock.py:{len(lock.read_text().splitlines())}: uvci.model must not "
        "import uvci.wheelhouse.download",
    ]


def test_the_version_and_third_party_imports_are_allowed_everywhere() -> None:
    checker = _checker()
    assert checker.allowed("uvci.model.lock", "uvci")
    assert checker.allowed("uvci.model.lock", "packaging.tags")
    assert not checker.allowed("uvci.util.tomlio", "uvci.model.lock")
    assert checker.allowed("uvci.commands.run", "uvci.runner.session")
