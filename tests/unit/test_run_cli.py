"""`uvci run` arguments: what follows `--` goes to the test command, never to PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.cli import build_parser, main


def test_args_after_double_dash_go_to_the_test_command() -> None:
    args = build_parser().parse_args(["run", "proj", "-k", "fast", "--", "-v", "--x", "."])
    assert args.path == Path("proj") and args.keyword == "fast"
    assert args.test_args == ["-v", "--x", "."] and args.extra == []


def test_defaults() -> None:
    args = build_parser().parse_args(["run"])
    assert args.path == Path(".") and args.test_args == [] and args.test_command == "pytest"
    assert args.jobs >= 1 and not args.fail_fast and not args.require_all


def test_python_picks_cells() -> None:
    args = build_parser().parse_args(["run", "--python", "3.12,3.13", "--", "-x"])
    assert args.python == ["3.12", "3.13"] and args.test_args == ["-x"]


def test_extras_of_the_selection_and_test_args_do_not_mix() -> None:
    args = build_parser().parse_args(["run", "--extra", "color", "--", "--extra", "x"])
    assert args.extra == ["color"] and args.test_args == ["--extra", "x"]


def test_jobs_below_one_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--jobs", "0", "."]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["uvci run: error: --jobs 0: must be at least 1"]
