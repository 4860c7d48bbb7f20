"""Command-line entry point: turns arguments into typed values and dispatches.

Every command lives in ``uvci.commands.<name>`` and exposes ``SUMMARY`` (one line, the same
as in :data:`COMMANDS`), ``DESCRIPTION`` (the --help text), ``add_arguments(parser)`` and
``run(args) -> int``. Only the module of the command being run is imported (the others cost
start-up time in every CI job). The one top-level handler below turns :class:`FatalError`
into one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from uvci import __version__
from uvci.errors import EXIT_INTERRUPTED, FatalError

# Each command and its one-line summary (a test checks they match the modules' SUMMARY).
COMMANDS = {
    "plan": "show what every matrix cell installs, and what a cache costs",
    "generate": "write the GitLab pipeline: one test matrix, each cell keeping its own wheelhouse",
    "doctor": "find (and fix) what makes an existing uv pipeline slow or wrong",
    "prefetch": "fill the wheelhouse for every cell (runs inside CI)",
    "run": "run the test matrix locally: one environment per Python, in parallel",
}

DESCRIPTION = """\
Fast, correct GitLab CI for uv projects tested across a Python matrix.

  uvci plan       what every matrix cell installs, and what a cache costs
  uvci generate   write the GitLab pipeline: one test matrix, each cell keeping its own wheelhouse
  uvci doctor     find (and fix) what makes an existing uv pipeline slow or wrong
  uvci prefetch   fill the wheelhouse for every cell (runs inside CI)
  uvci run        run the same matrix locally, in parallel
"""


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"uvci.commands.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, the other commands are listed but their modules not loaded."""
    parser = argparse.ArgumentParser(
        prog="uvci",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"uvci {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if only is not None and name != only:
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
        cmd_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args))
    except FatalError as exc:
        print(f"uvci {args.command}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"uvci {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `uvci plan --json | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
