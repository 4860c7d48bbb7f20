"""The one error type that reaches the user, the one failure of a subprocess, and the exit
codes that mean something."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

# Where an unexpected error (a bug) should be reported; one place, named by the crash line.
REPORT_TO = "the uvci issue tracker (the project's GitLab/GitHub issues)"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_FINDINGS = 1  # the command ran and found something wrong (failed cell, doctor finding)
EXIT_USAGE = 2  # bad input: the command could not do its work
EXIT_BUG = 3  # an unexpected error: a bug in uvci (the traceback with --debug)
EXIT_INTERRUPTED = 130


class FatalError(Exception):
    """A problem with the user's input or environment, reported as one line on stderr.

    The message should name the file (and line, where there is one) and say how to fix it.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ProcessError(Exception):
    """``what`` (by default the command's name) exited non-zero, or made not what it should."""

    def __init__(self, cmd: Sequence[str], returncode: int, output: str, what: str = "") -> None:
        self.cmd = tuple(str(word) for word in cmd)
        self.returncode = returncode
        self.output = output
        self.what = what or (Path(self.cmd[0]).name if self.cmd else "a command")
        super().__init__(f"{self.what} failed (exit {returncode})")

    def tail(self, lines: int = 3) -> str:
        """The output's last non-blank lines on one line, or the exit code when it said nothing."""
        said = [line.strip() for line in self.output.splitlines() if line.strip()]
        return " | ".join(said[-lines:]) or f"exit code {self.returncode}"


def one_line(text: str) -> str:
    """``text`` as one printable line: line breaks become ``; ``, control characters escapes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], "; ".join(lines))
