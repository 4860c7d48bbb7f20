"""`uvci generate` prints each cell's bytes and, when a test group costs far less than the
default groups, the flags that select it (model: uvci.model.groupcost)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.uvcispec import HASHED_SPEC
from uvci.model.groupcost import cell_bytes, cheaper_test_group, describe_selection
from uvci.model.selection import Selection
from uvci.planning import make_plan

PYPROJECT = """\
[project]
name = "demo"
version = "1.0"
requires-python = ">=3.11"
dependencies = []

[dependency-groups]
dev = [{include-group = "tests"}, "mypy"]
tests = ["pytest"]
"""


def _package(name: str, size: int) -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
        'source = { registry = "https://idx.test/simple" }\n'
        f'wheels = [\n    {{ url = "https://idx.test/files/{name}-1.0-py3-none-any.whl", '
        f'hash = "sha256:{name}", size = {size} }},\n]\n\n'
    )


LOCK = (
    'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n'
    '[manifest]\n\n[[package]]\nname = "demo"\nversion = "1.0"\nsource = { editable = "." }\n\n'
    '[package.dev-dependencies]\ndev = [\n    { name = "mypy" },\n    { name = "pytest" },\n]\n'
    'tests = [\n    { name = "pytest" },\n]\n\n'
    + _package("mypy", 60_000_000)
    + _package("pytest", 1_500_000)
)


def _project(tmp_path: Path, pyproject: str = PYPROJECT) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "uv.lock").write_text(LOCK)
    return tmp_path


def test_bytes_per_cell_and_the_test_group_flags(tmp_path: Path) -> None:
    plan = make_plan(_project(tmp_path), python=["3.12", "3.13"], check_lock=False)
    assert cell_bytes(plan) == (("3.12", 61_500_000), ("3.13", 61_500_000))
    hint = cheaper_test_group(plan)
    assert hint is not None and hint.group == "tests"
    assert hint.flags == ("--no-default-groups", "--group", "tests")
    assert (hint.bytes, hint.default_bytes) == (1_500_000, 61_500_000)
    assert describe_selection(plan.selection) == "uv sync's defaults"


def test_no_hint_once_a_group_is_chosen_or_when_it_costs_about_the_same(tmp_path: Path) -> None:
    root = _project(tmp_path)
    chosen = make_plan(root, python=["3.12"], check_lock=False,
                       selection=Selection(no_default_groups=True, groups=("tests",)))  # fmt: skip
    assert cheaper_test_group(chosen) is None
    assert describe_selection(chosen.selection) == "--group=tests --no-default-groups"
    (root / "uv.lock").write_text(LOCK.replace("size = 60000000", "size = 1000000"))
    cheap = make_plan(root, python=["3.12"], check_lock=False)
    assert cheaper_test_group(cheap) is None
    nogroup = _project(tmp_path, PYPROJECT.replace("tests = ", "checks = ").replace(
        '"tests"', '"checks"'))  # fmt: skip
    assert cheaper_test_group(make_plan(nogroup, python=["3.12"], check_lock=False)) is None


def test_generate_prints_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from uvci.commands.generate_report import report_bytes

    report_bytes(make_plan(_project(tmp_path), python=["3.12", "3.13"], check_lock=False))
    err = capsys.readouterr().err
    assert "per cell (uv sync's defaults): 3.12 61.5 MB, 3.13 61.5 MB" in err
    assert "the default groups cost 61.5 MB a cell, the 'tests' group alone 1.5 MB" in err
    assert "regenerate with --no-default-groups --group tests" in err


def test_every_output_of_generate_says_the_bytes_per_cell(
    locked_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from uvci.cli import main

    project = locked_project("pure")
    argv = ["generate", str(project), "--python", "3.11,3.12", "--test-command", "python -m x",
            "--uvci-spec", HASHED_SPEC]  # fmt: skip
    for extra in (["--stdout"], []):
        assert main([*argv, *extra]) == 0
        err = capsys.readouterr().err
        assert re.search(r"per cell \(uv sync's defaults\): 3\.11 \d+\.\d MB, 3\.12 ", err), err
