"""The top-level command line: summaries, and loading only the command that runs."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from uvci.cli import COMMANDS, command_of, main


def test_help_lists_each_command_once_with_its_one_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name, summary in COMMANDS.items():
        assert text.count(summary) == 1, name
    for name in COMMANDS:
        assert not hasattr(importlib.import_module(f"uvci.commands.{name}"), "SUMMARY")


def _loaded_after(argv: list[str]) -> list[str]:
    """The command modules (and importlib.metadata) loaded by a fresh ``main(argv)``."""
    code = (
        "import sys; from uvci.cli import main\n"
        f"try: main({argv!r})\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('uvci.commands.')\n"
        "             or m == 'importlib.metadata'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_running_one_command_loads_only_its_module() -> None:
    assert _loaded_after(["doctor", "--explain", "UVC001"]) == ["uvci.commands.doctor"]
    assert _loaded_after(["--debug", "doctor", "--explain", "UVC001"]) == ["uvci.commands.doctor"]


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_help_and_version_load_no_command_module(argv: list[str]) -> None:
    expected = ["importlib.metadata"] if argv == ["--version"] else []  # read only to be shown
    assert _loaded_after(argv) == expected


def test_version_is_the_installed_one(capsys: pytest.CaptureFixture[str]) -> None:
    from uvci import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"uvci {__version__}\n"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["plan", "--json"], "plan"),
        (["--debug", "run", "--", "-k", "x"], "run"),
        (["--version"], None),
        (["--", "plan"], None),
        (["nosuch", "plan"], None),
    ],
)
def test_the_command_is_the_first_word_that_is_not_an_option(
    argv: list[str], command: str | None
) -> None:
    assert command_of(argv) == command


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name, summary in COMMANDS.items():
        assert name in out and summary in out
