"""Command-line entry point: turns arguments into typed values and dispatches.

Every command lives in ``uvci.commands.<name>`` and exposes ``DESCRIPTION`` (its --help
text), ``add_arguments(parser)`` and ``run(args) -> int``; its one-line summary is written once,
in :data:`COMMANDS`. Only the module of the command being run is imported (the others cost
start-up time in every CI job); ``--help`` and ``--version`` import none, nor read uvci's
version from the installed metadata unless it is shown. The top-level handler below turns
:class:`FatalError` into one line on stderr (secrets redacted, control characters escaped),
and any other exception (a bug) into one line naming uvci's version and where to report it,
exit 3; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from argparse import SUPPRESS
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from uvci.errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    REPORT_TO,
    FatalError,
    ProcessError,
    one_line,
)
from uvci.util.redact import redact

# Each command and its one-line summary: the one place it is written (`uvci --help` lists it).
COMMANDS = {
    "plan": "show what every matrix cell installs, and what a cache costs",
    "generate": "write the GitLab pipeline: one test matrix, each cell keeping its own wheelhouse",
    "doctor": "find (and fix) what makes an existing uv pipeline slow or wrong",
    "prefetch": "fill the wheelhouse for every cell (runs inside CI)",
    "run": "run the test matrix locally: one environment per Python, in parallel",
}

DESCRIPTION = """\
Fast, correct GitLab CI for uv projects tested across a Python matrix.

Start with `uvci plan` in your project, then `uvci generate`; `uvci COMMAND --help` says more.
"""


DEBUG_HELP = "on an unexpected error (a bug in uvci), show the traceback"


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"uvci.commands.{name}")


def _version() -> str:
    from uvci import __version__

    return __version__


class _ShowVersion(argparse.Action):
    """``--version``, reading the version only when asked (argparse's wants it up front)."""

    def __init__(self, option_strings: Sequence[str], dest: str = SUPPRESS, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"uvci {_version()}")
        parser.exit()


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (uvci's own options
    take no value), if that is a command; None for ``--help``, ``--version`` or none."""
    words = argv[: argv.index("--")] if "--" in argv else argv
    first = next((word for word in words if not word.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(only: str | None = None, *, load_none: bool = False) -> argparse.ArgumentParser:
    """The parser; with ``only`` (or ``load_none``), the other commands (or all) are listed but
    their modules not loaded."""
    parser = argparse.ArgumentParser(
        prog="uvci",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_ShowVersion, help="show uvci's version and exit")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if load_none or (only is not None and name != only):
            sub.add_parser(name, help=summary)
            continue
        module = _command_module(name)
        cmd_parser = sub.add_parser(
            name,
            help=summary,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd_parser)
        cmd_parser.add_argument("--debug", action="store_true", default=SUPPRESS, help=DEBUG_HELP)
        cmd_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = command_of(argv)
    try:
        return _main(argv, command)
    except Exception as exc:  # a bug in uvci: one line, the traceback only with --debug
        return crashed(exc, command, debug=_debug(argv))


def _main(argv: list[str], command: str | None) -> int:
    parser = build_parser(only=command, load_none=command is None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args))
    except FatalError as exc:
        print(f"uvci {args.command}: error: {one_line(redact(exc.message))}", file=sys.stderr)
        return exc.exit_code
    except ProcessError as exc:  # a subprocess no command turned into a FatalError of its own
        said = one_line(redact(f"{exc}: {exc.tail()}"))
        print(f"uvci {args.command}: error: {said}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"uvci {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `uvci plan --json | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _debug(argv: list[str]) -> bool:
    """``--debug`` among uvci's own arguments (not after ``--``, where `uvci run`'s test's go)."""
    return "--debug" in (argv[: argv.index("--")] if "--" in argv else argv)


def crashed(exc: BaseException, command: str | None, *, debug: bool) -> int:
    """Report an unexpected error: one line naming uvci's version and where to report it."""
    where = f"uvci {command}" if command else "uvci"
    if debug:
        print(redact(traceback.format_exc()), end="", file=sys.stderr)
    what = one_line(redact(f"{type(exc).__name__}: {exc}"))
    again = "" if debug else " (run it again with --debug for the traceback)"
    print(
        f"{where}: internal error: {what}; this is a bug in uvci {_version()}: please report "
        f"it to {REPORT_TO} with this line{again}",
        file=sys.stderr,
    )
    return EXIT_BUG
