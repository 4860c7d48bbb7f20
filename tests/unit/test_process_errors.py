"""One subprocess failure (ProcessError): what failed, its exit code and the tail of its output,
from a step, a build, or straight to the user as one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from uvci.errors import EXIT_USAGE, ProcessError
from uvci.util import uvproc
from uvci.util.uvproc import check, cmd_output


def test_check_returns_the_output_of_a_success() -> None:
    cmd = [sys.executable, "-c", "print('hi')"]
    assert check(cmd, cmd_output(cmd)) == ("hi\n", "")


def test_check_carries_command_exit_code_and_output() -> None:
    cmd = [sys.executable, "-c", "import sys; print('one'); print('two', file=sys.stderr); exit(3)"]
    with pytest.raises(ProcessError) as caught:
        check(cmd, cmd_output(cmd), "the step")
    exc = caught.value
    assert (exc.cmd, exc.returncode, exc.output) == (tuple(cmd), 3, "one\ntwo")
    assert str(exc) == "the step failed (exit 3)" and exc.tail() == "one | two"


def test_a_silent_failure_names_its_exit_code_and_the_command() -> None:
    exc = ProcessError(["/usr/bin/false"], 1, "")
    assert str(exc) == "false failed (exit 1)" and exc.tail() == "exit code 1"


def test_a_failed_build_is_a_process_error_naming_the_source(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    (project / "pyproject.toml").write_text("[build-system]\nrequires = [\n")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ProcessError) as caught:
        uvproc.build_wheel(project, sys.executable, out, cwd=project)
    assert str(caught.value).startswith("`uv build --wheel` of broken failed (exit ")
    assert "pyproject.toml" in caught.value.output and not list(out.glob("*.whl"))


def test_a_process_error_reaching_the_cli_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from uvci import cli
    from uvci.commands import plan

    def fails(args: object) -> int:
        raise ProcessError(["uv", "export"], 2, "error: first\nerror: https://u:secret@x/ fails")

    monkeypatch.setattr(plan, "run", fails)
    assert cli.main(["plan", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "secret" not in err
    assert err.startswith("uvci plan: error: uv failed (exit 2): error: first | error: https://")
