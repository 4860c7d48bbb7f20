"""Just enough shell reading to find the uv (and pip, curl, rm) commands in job scripts."""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass

from uvci.gitlab.jobparts import ScriptLine

_SEPARATORS = re.compile(r"\n|&&|\|\||;|\|")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_PREFIX_WORDS = frozenset(
    {"if", "then", "else", "elif", "while", "until", "do", "!", "time", "exec", "command"}
    | {"sudo", "export"}
)
# uv's global options that take a value (so the value is not mistaken for the subcommand)
_VALUE_OPTIONS = frozenset(
    {"--directory", "--project", "--cache-dir", "--config-file", "--color", "--python"}
    | {"-p", "--python-preference", "--allow-insecure-host", "--index-url", "--index"}
)
_PIP_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-f", "--find-links", "-i", "--extra-index-url"}
    | {"--target", "--prefix", "--torch-backend", "--override", "--exclude-newer"}
)
_TWO_WORD = frozenset({"pip", "cache", "python", "tool", "self"})


@dataclass(frozen=True)
class Command:
    """One simple shell command from a script line (``argv`` after env assignments)."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    line: ScriptLine

    def option(self, *names: str) -> str | None:
        """The value of ``--name VALUE``/``--name=VALUE``/flag (``""``), or None if absent."""
        for index, token in enumerate(self.argv):
            for name in names:
                if token == name:
                    following = self.argv[index + 1 : index + 2]
                    return following[0] if following and not following[0].startswith("-") else ""
                if token.startswith(name + "="):
                    return token.split("=", 1)[1]
        return None

    def has(self, *flags: str) -> bool:
        return any(self.option(flag) is not None for flag in flags)


def commands(line: ScriptLine) -> list[Command]:
    """Split a script entry into simple commands (newlines, ``&&``, ``||``, ``;``, ``|``)."""
    return [Command(argv, env, line) for argv, env in _split(line.text)]


@functools.lru_cache(maxsize=4096)
def _split(text: str) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...]:
    """The (argv, env) of each simple command; cached, as templates repeat lines across jobs."""
    out = []
    for segment in _SEPARATORS.split(text):
        argv, env = _words(segment)
        if argv:
            out.append((tuple(argv), tuple(env)))
    return tuple(out)


def _words(segment: str) -> tuple[list[str], list[tuple[str, str]]]:
    try:
        words = shlex.split(segment, comments=True)
    except ValueError:
        words = segment.split()
    env: list[tuple[str, str]] = []
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _PREFIX_WORDS):
        word = words.pop(0)
        if "=" in word:
            name, value = word.split("=", 1)
            env.append((name, value))
    if words[:3] in (["python", "-m", "uv"], ["python3", "-m", "uv"]):
        words = ["uv", *words[3:]]
    return words, env


def uv_subcommand(cmd: Command) -> str | None:
    """``"sync"``, ``"pip install"``, ``"cache prune"``, ``"uvx"``... or None if not uv."""
    if cmd.argv[0] in ("uvx", "uv-tool-run"):
        return "uvx"
    if cmd.argv[0] != "uv":
        return None
    words: list[str] = []
    skip = False
    for token in cmd.argv[1:]:
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = token in _VALUE_OPTIONS
        else:
            words.append(token)
            if len(words) == 2 or words[0] not in _TWO_WORD:
                break
    return " ".join(words) or "--version"


def positional_args(cmd: Command, after: int) -> list[str]:
    """Non-option words after the first ``after`` words (rough: option values excluded)."""
    out: list[str] = []
    skip = False
    for token in cmd.argv[after:]:
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = "=" not in token and token in _VALUE_OPTIONS | _PIP_VALUE_OPTIONS
        else:
            out.append(token)
    return out
