"""The top-level command line: summaries, and loading only the command that runs."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from uvci.cli import COMMANDS, main


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_summary_is_the_module_summary(name: str) -> None:
    module = importlib.import_module(f"uvci.commands.{name}")
    assert COMMANDS[name] == module.SUMMARY


def test_running_one_command_loads_only_its_module() -> None:
    code = (
        "import sys; from uvci.cli import main\n"
        "rc = main(['doctor', '--explain', 'UVC001'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('uvci.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['uvci.commands.doctor']"


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name, summary in COMMANDS.items():
        assert name in out and summary in out
