"""Reading commands out of job scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.doctor.images import image_python, is_uv_image
from uvci.doctor.rules_install import add_locked
from uvci.doctor.shell import commands, uv_subcommand
from uvci.gitlab.read.jobparts import ScriptLine
from uvci.gitlab.read.nodes import Loc


def line(text: str) -> ScriptLine:
    return ScriptLine(text, "script", Loc(Path("x.yml"), 1), ([text], 0))


@pytest.mark.parametrize(
    ("text", "subs"),
    [
        ("uv sync --locked", ["sync"]),
        ("uv --quiet --directory sub run --locked pytest", ["run"]),
        ("UV_FROZEN=1 uv pip install -r req.txt && uvx ruff check", ["pip install", "uvx"]),
        ("python -m uv cache prune --ci", ["cache prune"]),
        ("if [ -d x ]; then uv python install 3.12; fi", ["python install"]),
        ("echo uv sync; uvicorn app:main", [None, None]),
        ("uv --version", ["--version"]),
    ],
)
def test_uv_subcommands(text: str, subs: list[str | None]) -> None:
    found = [uv_subcommand(cmd) for cmd in commands(line(text))]
    assert [s for s in found if s is not None or None in subs] == subs


def test_command_options_and_env() -> None:
    (cmd,) = commands(line("UV_LOCKED=1 uv run --python=3.12 -p 3.11 pytest"))
    assert cmd.env == (("UV_LOCKED", "1"),)
    assert cmd.option("--python") == "3.12"
    assert cmd.option("-p") == "3.11"
    assert not cmd.has("--locked")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("uv sync", "uv sync --locked"),
        ("uv run pytest -x", "uv run --locked pytest -x"),
        ("uv --quiet run pytest", "uv --quiet run --locked pytest"),
        ("uv sync --frozen && uv run pytest", "uv sync --frozen && uv run --locked pytest"),
        ("uv run --no-sync pytest", "uv run --no-sync pytest"),
        ("echo 'uv sync'; uvx ruff", "echo 'uv sync'; uvx ruff"),  # quoted text: left alone
    ],
)
def test_add_locked(before: str, after: str) -> None:
    assert add_locked(before) == after


def test_images() -> None:
    assert image_python("python:3.12-slim") == "3.12"
    assert image_python("ghcr.io/astral-sh/uv:0.9.17-python3.13-bookworm-slim") == "3.13"
    assert image_python("registry.example.com/python3.11/builder:1") is None
    assert image_python("ghcr.io/astral-sh/uv:0.9.17") is None
    assert is_uv_image("ghcr.io/astral-sh/uv:latest") and not is_uv_image("python:3.12")


def test_add_locked_looks_at_each_command_on_its_own() -> None:
    assert add_locked("uv sync && uv run --locked pytest") == (
        "uv sync --locked && uv run --locked pytest"
    )
    assert add_locked("uv sync\nuv run pytest") == "uv sync --locked\nuv run --locked pytest"


def test_commands_after_shell_keywords() -> None:
    text = "if uvx --offline ruff --version; then echo ok; fi\nwhile ! uv sync; do sleep 1; done"
    subs = [uv_subcommand(cmd) for cmd in commands(line(text))]
    assert [s for s in subs if s] == ["uvx", "sync"]


@pytest.mark.parametrize(
    ("text", "flag", "present"),
    [
        ("uv run pytest -n auto", "-n", False),  # pytest-xdist's -n, not uv's --no-cache
        ("uv run --no-cache pytest", "--no-cache", True),
        ("uv --directory sub run --locked python -m pytest --frozen", "--frozen", False),
        ("uvx --from ruff==0.8.0 ruff check --no-cache", "--no-cache", False),
        ("uv run -- pytest --locked", "--locked", False),
        ("uv sync -n", "-n", True),
    ],
)
def test_options_after_the_program_belong_to_the_program(
    text: str, flag: str, present: bool
) -> None:
    (cmd,) = commands(line(text))
    assert cmd.has(flag) is present


def test_continued_lines_are_joined() -> None:
    found = commands(line("uv sync \\\n  --locked \\\n  --extra dev\nuv run pytest"))
    assert [c.argv for c in found] == [
        ("uv", "sync", "--locked", "--extra", "dev"),
        ("uv", "run", "pytest"),
    ]
