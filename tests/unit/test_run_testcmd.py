"""uvci.runner.testcmd: -k, pass-through args, pytest detection and --junitxml."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.errors import FatalError
from uvci.model import testcommand
from uvci.runner.testcmd import parse_test_command


def test_pytest_gets_keyword_junit_and_extra_args_in_order(tmp_path: Path) -> None:
    command = parse_test_command("pytest -q", "slow and not net", ["-x", "tests/a.py"])
    argv = command.argv(tmp_path, tmp_path / "j.xml")
    assert argv == ["pytest", "-q", "-k", "slow and not net", f"--junitxml={tmp_path / 'j.xml'}",
                    "-x", "tests/a.py"]  # fmt: skip


def test_the_executable_is_taken_from_the_cell_environment(tmp_path: Path) -> None:
    exe = tmp_path / "pytest"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert parse_test_command("pytest", None, []).argv(tmp_path, tmp_path / "j")[0] == str(exe)


@pytest.mark.parametrize(
    ("text", "is_pytest"),
    [
        ("pytest", True),
        ("py.test -x", True),
        ("python -m pytest", True),
        ("python3.12 -m pytest tests", True),
        ("python -m unittest", False),
        ("./run-tests.sh pytest", False),
        ("/usr/bin/pytest -q", True),
        ("pytest-watch", False),
        ("'unbalanced", False),
    ],
)
def test_pytest_detection(text: str, is_pytest: bool) -> None:
    """One definition: `uvci run` (the words) and `uvci generate` (the line) agree."""
    assert testcommand.is_pytest(text) is is_pytest
    if is_pytest:
        assert parse_test_command(text, None, []).is_pytest


def test_other_commands_get_no_junitxml(tmp_path: Path) -> None:
    argv = parse_test_command("python -m unittest", "answer", []).argv(tmp_path, tmp_path / "j")
    assert argv == ["python", "-m", "unittest", "-k", "answer"]


@pytest.mark.parametrize("text", ["", "   ", "pytest 'unclosed"])
def test_bad_test_command_is_one_clear_error(text: str) -> None:
    with pytest.raises(FatalError, match="--test-command"):
        parse_test_command(text, None, [])


def test_pytest_must_come_from_the_cell_environment(tmp_path: Path) -> None:
    missing = parse_test_command("pytest -x", None, []).missing_from(tmp_path)
    assert missing is not None and "pytest is not installed" in missing
    (tmp_path / "pytest").write_text("#!/bin/sh\n")
    (tmp_path / "pytest").chmod(0o755)
    assert parse_test_command("pytest -x", None, []).missing_from(tmp_path) is None


@pytest.mark.parametrize("text", ["python -m unittest", "make test", "/opt/bin/pytest"])
def test_other_commands_may_be_external(tmp_path: Path, text: str) -> None:
    assert parse_test_command(text, None, []).missing_from(tmp_path) is None


def test_a_relocatable_trampoline_is_run_by_the_env_python_directly(tmp_path: Path) -> None:
    script = tmp_path / "pytest"
    script.write_text(
        "#!/bin/sh\n'''exec' \"$(dirname -- \"$0\")\"/'python' \"$0\" \"$@\"\n' '''\n"
    )
    script.chmod(0o755)
    argv = parse_test_command("pytest -q", None, []).argv(tmp_path, tmp_path / "j.xml")
    assert argv[:3] == [str(tmp_path / "python"), str(script), "-q"]
