"""What a release publishes: the sdist and wheel `uv build` makes of this tree (as the tag
pipeline's release job does), with no local state in them and the version from pyproject.toml.

Built offline with uv's own build backend (uv_build, no build environment), once from this
checkout (with whatever .uvci, .tools and .venvs it has) and once from a copy of it salted with
local state in every place a developer's tools leave it.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support.projects import hermetic_env
from uvci import __version__
from uvci.util.uvproc import run_uv

REPO = Path(__file__).resolve().parents[2]
LOCAL_STATE = (".uvci", ".tools", ".venvs", ".venv", "__pycache__")
SALT = (
    ".uvci/wheels/stale-1.0-py3-none-any.whl",
    ".tools/node_modules/x.js",
    ".venvs/3.13/pyvenv.cfg",
    "src/uvci/.uvci/wheels/junk.whl",
    "src/uvci/.venv/pyvenv.cfg",
    "src/uvci/__pycache__/cli.cpython-313.pyc",
)


def build(source: Path, out: Path) -> tuple[Path, Path]:
    env = hermetic_env(out / "uv-cache")
    argv = ["build", "--offline", "--sdist", "--wheel", "--out-dir", str(out), str(source)]
    rc, _out, err = run_uv(argv, env=env, timeout=120)
    assert rc == 0, err
    return out / f"uvci-{__version__}.tar.gz", out / f"uvci-{__version__}-py3-none-any.whl"


def sdist_names(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        return [m.name for m in tar.getmembers() if m.isfile()]


def assert_clean(sdist: Path, wheel: Path) -> None:
    root = f"uvci-{__version__}/"
    names = sdist_names(sdist)
    assert names and all(n.startswith(root) for n in names), names
    inside = [n[len(root) :] for n in names]
    for name in inside:
        parts = name.split("/")
        assert not set(parts) & set(LOCAL_STATE), f"local state in the sdist: {name}"
        assert name.startswith("src/uvci/") or name in {
            "PKG-INFO", "pyproject.toml", "pyproject.toml.orig", "README.md",
        }, f"unexpected in the sdist: {name}"  # fmt: skip
    assert "src/uvci/cli.py" in inside and "src/uvci/gitlab/generate/pipeline.py" in inside
    with zipfile.ZipFile(wheel) as whl:
        wheel_names = whl.namelist()
        metadata = whl.read(f"uvci-{__version__}.dist-info/METADATA").decode()
    assert not [n for n in wheel_names if set(n.split("/")) & set(LOCAL_STATE)], wheel_names
    assert f"\nVersion: {__version__}\n" in metadata


def test_the_sdist_and_wheel_of_this_checkout_carry_no_local_state(tmp_path: Path) -> None:
    assert_clean(*build(REPO, tmp_path))


def test_local_state_anywhere_in_the_tree_stays_out(tmp_path: Path) -> None:
    source = tmp_path / "src-tree"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns(*LOCAL_STATE))
    for salt in SALT:
        (source / salt).parent.mkdir(parents=True, exist_ok=True)
        (source / salt).write_text("local state\n")
    sdist, wheel = build(source, tmp_path / "dist")
    assert_clean(sdist, wheel)
    if not any(n.endswith("/src/uvci/cli.py") for n in sdist_names(sdist)):
        pytest.fail("the sdist lost the package")  # pragma: no cover
