"""Just enough shell reading to find the uv (and pip, curl, rm) commands in job scripts."""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass

from uvci.gitlab.read.jobparts import ScriptLine

_SEPARATORS = re.compile(r"\n|&&|\|\||;|\|")
_CONTINUED = re.compile(r"\\\n[ \t]*")  # a backslash-newline continues the shell line
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
# options of `uv run`/`uvx` that take a value: the program starts at the first other word
_RUN_VALUE_OPTIONS = _VALUE_OPTIONS | _PIP_VALUE_OPTIONS | {
    "--with", "--with-editable", "--with-requirements", "-w", "--extra", "--no-extra",
    "--group", "--only-group", "--no-group", "--package", "--env-file", "--from",
    "--default-index", "--resolution", "--prerelease", "--link-mode", "--index-strategy",
    "--keyring-provider", "--refresh-package", "--reinstall-package", "--upgrade-package",
    "-P", "--no-binary-package", "--no-build-package", "--config-setting", "-C",
    "--python-platform",
}  # fmt: skip
_RUNNERS = (("uvx",), ("uv-tool-run",), ("uv", "run"), ("uv", "tool", "run"))


@dataclass(frozen=True)
class Command:
    """One simple shell command from a script line (``argv`` after env assignments)."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    line: ScriptLine

    @functools.cached_property
    def own(self) -> tuple[str, ...]:
        """The words that belong to the command itself: for ``uv run``/``uvx``, up to the
        program they run (``uv run pytest -n 4``: ``-n`` is pytest's, not uv's)."""
        return self.argv[: _program_start(self.argv)]

    def option(self, *names: str) -> str | None:
        """The value of ``--name VALUE``/``--name=VALUE``/flag (``""``), or None if absent
        (options of a program that ``uv run``/``uvx`` runs do not count)."""
        argv = self.own
        for index, token in enumerate(argv):
            for name in names:
                if token == name:
                    following = argv[index + 1 : index + 2]
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
    for segment in _SEPARATORS.split(_CONTINUED.sub(" ", text)):
        argv, env = _words(segment)
        if argv:
            out.append((tuple(argv), tuple(env)))
    return tuple(out)


def _words(segment: str) -> tuple[list[str], list[tuple[str, str]]]:
    try:
        words = shlex.split(segment, comments=True)
    except ValueError:
        words = segment.split()
    if words:  # a subshell or group: `(rm -rf .venv && uv sync)`
        words[0], words[-1] = words[0].lstrip("({"), words[-1].rstrip(")}")
        words = [word for word in words if word]
    env: list[tuple[str, str]] = []
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _PREFIX_WORDS):
        word = words.pop(0)
        if "=" in word:
            name, value = word.split("=", 1)
            env.append((name, value))
    if words and words[0] == "xargs":  # `... | xargs uvx ruff`: xargs runs the rest
        words = _after_xargs(words)
    if words[:3] in (["python", "-m", "uv"], ["python3", "-m", "uv"]):
        words = ["uv", *words[3:]]
    if words and "/" in words[0] and words[0].rsplit("/", 1)[1] in ("uv", "uvx"):
        words[0] = words[0].rsplit("/", 1)[1]  # ~/.local/bin/uv is uv
    return words, env


_XARGS_VALUE_OPTIONS = frozenset({"-I", "-n", "-P", "-L", "-d", "-a", "-s", "-E", "-i"})


def _after_xargs(words: list[str]) -> list[str]:
    index = 1
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _XARGS_VALUE_OPTIONS else 1
    return words[index:]


@functools.lru_cache(maxsize=4096)
def _program_start(argv: tuple[str, ...]) -> int:
    """Index of the program ``uv run``/``uvx`` runs (``len(argv)`` for other commands)."""
    runner = next((r for r in _RUNNERS if _starts(argv, r)), None)
    if runner is None:
        return len(argv)
    index, words = 1, len(runner) - 1
    while index < len(argv):
        token = argv[index]
        if token == "--":
            return index + 1
        if not token.startswith("-"):
            if words == 0:
                return index
            words -= 1
        elif token in ("-m", "--module"):
            return index + 1
        elif token in _RUN_VALUE_OPTIONS:
            index += 1
        index += 1
    return len(argv)


def _starts(argv: tuple[str, ...], runner: tuple[str, ...]) -> bool:
    """Whether ``argv`` is ``runner``'s words, with uv's global options between them."""
    if not argv or argv[0] != runner[0]:
        return False
    words: list[str] = []
    skip = False
    for token in argv[1:]:
        if len(words) == len(runner) - 1:
            break
        if skip or token.startswith("-"):
            skip = not skip and token in _VALUE_OPTIONS
        else:
            words.append(token)
    return tuple(words) == runner[1:]


def uv_subcommand(cmd: Command) -> str | None:
    """``"sync"``, ``"pip install"``, ``"cache prune"``, ``"uvx"``... or None if not uv."""
    if cmd.argv[0] in ("uvx", "uv-tool-run") or _starts(cmd.argv, ("uv", "tool", "run")):
        program = program_of(cmd) or ""
        if re.match(r"^python(3(\.\d+)?)?(@[\w.]+)?$", program):
            return "uvx python"  # `uvx python`: uv runs an interpreter, installs no tool
        if cmd.argv[0] != "uv":
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


def program_of(cmd: Command) -> str | None:
    """The program ``uvx``/``uv run``/``uv tool run`` runs (``nox`` in ``uvx --with nox-uv
    nox -s tests``), as written (``nox@2024.10.9``); None for other commands."""
    start = _program_start(cmd.argv)
    return cmd.argv[start] if start < len(cmd.argv) else None
