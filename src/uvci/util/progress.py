"""Progress for long-running commands: rich on a terminal, plain lines in CI logs.

:class:`Reporter` is the silent base (what library callers get by default); every method is
safe to call from worker threads. :func:`make_reporter` picks, for a stream (stderr):

- :class:`RichReporter` when the stream is a terminal and not in GitLab CI: a byte progress bar;
- :class:`PlainReporter` otherwise: one line per fetched, built or removed file, wrapped in a
  GitLab collapsible section when ``GITLAB_CI=true``
  (``\\e[0Ksection_start:<unix>:<id>[collapsed=true]\\r\\e[0K<title>`` ... ``section_end``);
  the one-line summary is printed after the section, so it shows in a collapsed log.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from uvci.util.redact import redact
from uvci.util.units import megabytes


class Reporter:
    """Silent progress sink; subclasses show it. All methods are thread-safe."""

    def begin(self, title: str, files: int, total_bytes: int) -> None:
        """A phase starts: ``files`` files of ``total_bytes`` bytes to check or fetch."""

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more bytes were downloaded or verified."""

    def file_done(self, action: str, filename: str, size: int) -> None:
        """``action`` (fetched, reused, built, removed, retry) happened to ``filename``."""

    def note(self, message: str) -> None:
        """Something the user should read (a package that could not be built, ...)."""

    def end(self, summary: str) -> None:
        """The work is done; ``summary`` ("" for none, e.g. on failure) is printed last."""


QUIET_ACTIONS = ("reused",)


def section_start(section: str, title: str, now: float | None = None) -> str:
    stamp = int(now if now is not None else time.time())
    return f"\x1b[0Ksection_start:{stamp}:{section}[collapsed=true]\r\x1b[0K{title}"


def section_end(section: str, now: float | None = None) -> str:
    stamp = int(now if now is not None else time.time())
    return f"\x1b[0Ksection_end:{stamp}:{section}\r\x1b[0K"


class PlainReporter(Reporter):
    """Plain lines; GitLab collapsible sections when ``gitlab`` is true."""

    def __init__(self, stream: TextIO, *, gitlab: bool = False, section: str = "uvci") -> None:
        self.stream = stream
        self.gitlab = gitlab
        self.section = section
        self._lock = threading.Lock()
        self._open = False

    def _print(self, line: str) -> None:
        with self._lock:
            print(line, file=self.stream, flush=True)

    def begin(self, title: str, files: int, total_bytes: int) -> None:
        line = f"{title}: {files} files, {megabytes(total_bytes)}"
        if self.gitlab and not self._open:
            self._open = True
            line = section_start(self.section, line)
        self._print(line)

    def file_done(self, action: str, filename: str, size: int) -> None:
        if action not in QUIET_ACTIONS:
            self._print(f"  {action} {filename} ({megabytes(size, 2)})")

    def note(self, message: str) -> None:
        self._print(f"  note: {redact(message)}")

    def end(self, summary: str) -> None:
        if self.gitlab and self._open:
            self._open = False
            self._print(section_end(self.section))
        if summary:
            self._print(summary)


class RichReporter(Reporter):
    """A transfer bar on a terminal; per-file lines above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def begin(self, title: str, files: int, total_bytes: int) -> None:
        if self._task is None:
            self._progress.start()
        else:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(f"{title} ({files} files)", total=total_bytes)

    def advance(self, nbytes: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, nbytes)

    def file_done(self, action: str, filename: str, size: int) -> None:
        if action not in QUIET_ACTIONS:
            line = f"  {action} {filename} ({megabytes(size, 2)})"
            self._progress.console.print(line, markup=False, highlight=False)

    def note(self, message: str) -> None:
        self._progress.console.print(Text.assemble(("  note: ", "yellow"), redact(message)))

    def end(self, summary: str) -> None:
        if self._task is not None:
            self._progress.stop()
            self._task = None
        if summary:
            self.console.print(summary, markup=False, highlight=False)


def make_reporter(
    stream: TextIO | None = None, env: Mapping[str, str] | None = None, section: str = "uvci"
) -> Reporter:
    """Rich on a terminal, plain lines (with GitLab sections under GitLab CI) otherwise."""
    stream = stream if stream is not None else sys.stderr
    env = os.environ if env is None else env
    gitlab = env.get("GITLAB_CI", "").lower() == "true"
    if stream.isatty() and not gitlab:
        return RichReporter(Console(file=stream, highlight=False))
    return PlainReporter(stream, gitlab=gitlab, section=section)
