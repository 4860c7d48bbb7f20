"""The test dists are real: valid archives and dist-info, installed and built by uv offline."""

from __future__ import annotations

import base64
import hashlib
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.tags import parse_tag
from packaging.utils import parse_wheel_filename

from tests.support.dists import BACKEND_SOURCE, build_sdist, build_wheel, compress_tags
from tests.support.projects import PROJECT_NAMES, PROJECTS_DIR, copy_project
from tests.support.venvs import installed
from uvci.util.uvproc import run_uv

LINUX_311 = ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")


def test_compressed_tag_filename_and_wheel_tags(tmp_path: Path) -> None:
    path = build_wheel(tmp_path, "Fast.Calc", "1.0", tags=LINUX_311, requires_dist=["gamma"])
    assert path.name == "fast_calc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    name, version, _, file_tags = parse_wheel_filename(path.name)
    assert (name, str(version)) == ("fast-calc", "1.0")
    with zipfile.ZipFile(path) as zf:
        wheel = zf.read("fast_calc-1.0.dist-info/WHEEL").decode()
        metadata = zf.read("fast_calc-1.0.dist-info/METADATA").decode()
    tag_lines = {line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")}
    assert {t for s in tag_lines for t in parse_tag(s)} == set(file_tags)
    assert "Requires-Dist: gamma" in metadata.splitlines()


def test_record_hashes_match_content(tmp_path: Path) -> None:
    path = build_wheel(tmp_path, "gamma", "1.0", extras={"x": ['beta; python_version < "3.11"']})
    with zipfile.ZipFile(path) as zf:
        record = zf.read("gamma-1.0.dist-info/RECORD").decode().splitlines()
        metadata = zf.read("gamma-1.0.dist-info/METADATA").decode()
        for line in record:
            arcname, digest, size = line.rsplit(",", 2)
            if not digest:
                assert arcname.endswith("/RECORD")
                continue
            data = zf.read(arcname)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
    assert "Provides-Extra: x" in metadata
    assert 'Requires-Dist: beta; (python_version < "3.11") and extra == "x"' in metadata


def test_archives_are_deterministic(tmp_path: Path) -> None:
    first = [
        build_wheel(tmp_path / "a", "gamma", "1.0"),
        build_sdist(tmp_path / "a", "gamma", "1.0"),
    ]
    second = [
        build_wheel(tmp_path / "b", "gamma", "1.0"),
        build_sdist(tmp_path / "b", "gamma", "1.0"),
    ]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_incompressible_tags_are_refused() -> None:
    with pytest.raises(ValueError, match="not a compressible set"):
        compress_tags(("cp311-cp311-win_amd64", "cp312-cp312-manylinux_2_17_x86_64"))


def test_sdist_layout(tmp_path: Path) -> None:
    path = build_sdist(tmp_path, "srconly", "1.0", requires_dist=["gamma>=1"])
    with tarfile.open(path) as tf:
        names = set(tf.getnames())
    assert names == {
        "srconly-1.0/pyproject.toml",
        "srconly-1.0/PKG-INFO",
        "srconly-1.0/backend.py",
        "srconly-1.0/src/srconly/__init__.py",
    }


def test_uv_installs_platform_wheel_and_builds_sdist_offline(
    tmp_path: Path, pythons: dict[str, Path], uv_env: dict[str, str]
) -> None:
    if "3.11" not in pythons:
        pytest.skip("needs Python 3.11")
    dists = tmp_path / "dists"
    build_wheel(dists, "gamma", "1.0")
    build_wheel(dists, "fastcalc", "1.0", tags=LINUX_311, requires_dist=["gamma"])
    build_sdist(dists, "srconly", "1.0", requires_dist=["fastcalc"], extras={"more": ["gamma"]})
    venv = tmp_path / "venv"
    assert run_uv(["venv", "-q", "-p", str(pythons["3.11"]), str(venv)], env=uv_env)[0] == 0
    rc, _, err = run_uv(
        [
            "pip",
            "install",
            "-p",
            str(venv),
            "--no-index",
            "--find-links",
            str(dists),
            "srconly[more]",
        ],
        env=uv_env,
    )
    assert rc == 0, err
    got = installed(venv)
    assert {n: d.version for n, d in got.items()} == {
        "gamma": "1.0",
        "fastcalc": "1.0",
        "srconly": "1.0",
    }
    assert got["fastcalc"].tags == LINUX_311
    assert got["srconly"].tags == ("py3-none-any",)  # built by the in-tree backend


def test_uv_build_of_sdist_tree(tmp_path: Path, uv_env: dict[str, str]) -> None:
    sdist = build_sdist(
        tmp_path, "srconly", "2.0", requires_dist=["gamma"], requires_python=">=3.10"
    )
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "tree", filter="data")
    out_dir = tmp_path / "out"
    rc, _, err = run_uv(
        ["build", "--wheel", "-o", str(out_dir)], cwd=tmp_path / "tree" / "srconly-2.0", env=uv_env
    )
    assert rc == 0, err
    (wheel,) = out_dir.glob("*.whl")
    assert wheel.name == "srconly-2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read("srconly-2.0.dist-info/METADATA").decode().splitlines()
        assert "srconly/__init__.py" in zf.namelist()
    assert {
        "Name: srconly",
        "Version: 2.0",
        "Requires-Python: >=3.10",
        "Requires-Dist: gamma",
    } <= set(meta)


def test_copied_projects_get_the_one_backend(tmp_path: Path) -> None:
    assert not list(PROJECTS_DIR.rglob("backend.py")), "projects must not carry copies"
    for name in PROJECT_NAMES:
        copy = copy_project(name, tmp_path / name, "http://127.0.0.1:9/simple")
        builders = [
            p.parent
            for p in copy.rglob("pyproject.toml")
            if 'build-backend = "backend"' in p.read_text(encoding="utf-8")
        ]
        for directory in builders:
            assert (directory / "backend.py").read_text(encoding="utf-8") == BACKEND_SOURCE
