"""The test command line of a cell: the base command, ``-k``, pass-through args, JUnit output."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from uvci.errors import FatalError
from uvci.model.testcommand import is_pytest

DEFAULT_COMMAND = "pytest"
TRAMPOLINE = b"#!/bin/sh\n'''exec' "  # uv's console scripts in a --relocatable venv


@dataclass(frozen=True)
class TestCommand:
    base: tuple[str, ...]
    keyword: str | None = None
    extra: tuple[str, ...] = ()

    @property
    def is_pytest(self) -> bool:
        return is_pytest(self.base)

    def missing_from(self, env_bin: Path) -> str | None:
        """Why pytest cannot run in the environment (not installed there), or None.

        A bare ``pytest`` must come from the cell's environment: one found further down PATH
        would test another interpreter. Other commands may be external tools (make, tox).
        """
        name = self.base[0]
        if Path(name).name != name or name not in ("pytest", "py.test"):
            return None
        if shutil.which(name, path=str(env_bin)):
            return None
        return f"{name} is not installed in the environment: add it to a dependency group"

    def argv(self, env_bin: Path, junit: Path) -> list[str]:
        """The argv in the cell's environment; pytest also gets ``--junitxml``."""
        exe = shutil.which(self.base[0], path=str(env_bin)) or self.base[0]
        args = [*_direct(Path(exe), env_bin), *self.base[1:]]
        if self.keyword is not None:
            args += ["-k", self.keyword]
        if self.is_pytest:
            args.append(f"--junitxml={junit}")
        return [*args, *self.extra]

    def __str__(self) -> str:
        return shlex.join(self.base)


def _direct(exe: Path, env_bin: Path) -> list[str]:
    """A console script of a relocatable venv is a /bin/sh trampoline that finds the venv's
    python and runs the same file with it; run it that way at once (one exec and two helper
    processes fewer per cell, the same sys.argv and sys.path)."""
    try:
        with exe.open("rb") as f:
            head = f.read(len(TRAMPOLINE))
    except OSError:
        return [str(exe)]
    if head == TRAMPOLINE and exe.parent == env_bin:
        return [str(env_bin / "python"), str(exe)]
    return [str(exe)]


def parse_test_command(text: str, keyword: str | None, extra: Sequence[str]) -> TestCommand:
    try:
        base = tuple(shlex.split(text))
    except ValueError as exc:
        raise FatalError(f"--test-command {text!r}: {exc}; quote it like a shell would") from None
    if not base:
        raise FatalError("--test-command is empty; pass e.g. --test-command 'python -m pytest'")
    return TestCommand(base, keyword, tuple(extra))
