"""The locked build backend beside the pipeline: what it locks, and prefetch filling it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from uvci.cli import main
from uvci.errors import FatalError
from uvci.gitlab.generate.buildenv import (
    BuildRequires,
    build_requires,
    project_tool_uv,
    pyproject_text,
    write_build_env,
)


def package(root: Path, system: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "p"\n\n[build-system]\n{system}\n')
    return root


def test_build_requires_is_the_union_and_knows_scm_and_uv_build(tmp_path: Path) -> None:
    hatch = package(tmp_path / "a", 'requires = ["hatchling", "hatch-vcs"]\nbuild-backend = "x"')
    setup = package(tmp_path / "b", 'requires = ["setuptools>=61"]')
    native = package(tmp_path / "c", 'requires = ["uv_build>=0.9"]\nbuild-backend = "uv_build"')
    found = build_requires([hatch, setup, native], ["cython"])
    assert found.requirements == ("cython", "hatch-vcs", "hatchling", "setuptools>=61")
    assert found.scm_versioned  # the images have no git: the pipeline gives the version
    assert build_requires([native]).requirements == ()  # uv builds uv_build projects itself


def test_backends_that_need_git_or_bad_requirements_are_one_line(tmp_path: Path) -> None:
    git_only = package(tmp_path / "a", 'requires = ["setuptools", "versioningit"]')
    with pytest.raises(FatalError, match="versioningit, which versions the project from git"):
        build_requires([git_only])
    bad = package(tmp_path / "b", 'requires = ["not a requirement!"]')
    with pytest.raises(FatalError, match="build requirement 'not a requirement!'"):
        build_requires([bad])


def test_the_build_env_is_locked_then_prefetch_fills_it(
    locked_project: LockedProject, index: LoopbackIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    build_env = project / ".gitlab" / "ci" / "uvci-build"
    text = pyproject_text(BuildRequires(("tint>=1",)), ">=3.10", project_tool_uv(project))
    assert 'dependencies = ["tint>=1"]' in text and "[[tool.uv.index]]" in text
    assert write_build_env(build_env, text) is True
    assert 'name = "tint"' in (build_env / "uv.lock").read_text()
    assert write_build_env(build_env, text) is False  # locked and unchanged: no uv lock
    argv = ["prefetch", str(project), "--python", "3.12", "--build-env", ".gitlab/ci/uvci-build"]
    index.reset()
    assert main([*argv, "--no-build"]) == 0
    wheels = {p.name for p in (project / ".uvci" / "wheels").glob("*.whl")}
    assert "tint-1.0-py3-none-any.whl" in wheels and "alpha-1.1-py3-none-any.whl" in wheels
    (build_env / "uv.lock").unlink()
    capsys.readouterr()
    assert main(argv) == 2
    assert "no uv.lock of the build backend; run `uvci generate`" in capsys.readouterr().err
