"""`uvci run`: the project's test matrix on this machine, as CI runs it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from uvci.commands.options import PlanArgs, add_plan_arguments, check_jobs, plan_for
from uvci.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK
from uvci.model.plan import plan_cells
from uvci.model.platforms import host_platform
from uvci.runner.session import Outcome, RunOptions, discover, run_dir, run_matrix
from uvci.runner.testcmd import DEFAULT_COMMAND, parse_test_command
from uvci.util.atomicfile import keep_out_of_git
from uvci.util.preload import preload

if TYPE_CHECKING:
    from rich.console import Console

DESCRIPTION = """\
Run the project's test matrix on this machine with the plan and wheelhouse CI uses.

For every cell (Python version) of the plan, uvci finds an installed CPython (pyenv versions,
uv's managed Pythons, python3.X on PATH; a missing one is a skipped cell), fetches every
cell's files once into the wheelhouse (.uvci/wheels), builds the project's wheel once when it
is pure Python, then per cell: creates an environment, installs offline from the wheelhouse,
installs the project and runs the test command. Cells run in parallel.

Cell environments live in .uvci/run/envs/<python>. Each is built under a temporary name and
renamed when complete, stamped with its interpreter and requirements; the next run reuses it
only when the stamp still matches, --fresh never. The project's own wheels are rebuilt every
run and reinstalled when they differ from the last install.

Reports: .uvci/run/junit-<python>.xml per cell and the merged .uvci/run/junit.xml.

Exit status: 0 every cell passed (skipped cells allowed unless --require-all), 1 a cell failed,
2 bad input (or a missing interpreter with --require-all), 130 interrupted.

examples:
  uvci run                              every cell, `pytest`
  uvci run --python 3.12,3.13 -k slow   two cells, `pytest -k slow`
  uvci run --test-command 'python -m unittest' -- -v
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    run = parser.add_argument_group("running")
    run.add_argument(
        "--test-command",
        default=DEFAULT_COMMAND,
        metavar="CMD",
        help=f"the test command, run in each cell's environment (default: {DEFAULT_COMMAND}); "
        "pytest also gets --junitxml, any other command gets a report from its exit code",
    )
    run.add_argument("-k", dest="keyword", metavar="EXPR", help="passed to the test command")
    run.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="cells run at once (default: the number of cores)",
    )
    run.add_argument(
        "--fail-fast", action="store_true", help="stop every cell at the first failure"
    )
    run.add_argument(
        "--require-all",
        action="store_true",
        help="a cell without an installed interpreter is an error (exit 2), not a skip",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="build every cell environment anew, even when the last one still matches",
    )
    run.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.usage = "%(prog)s [options] [path] [-- ARGS passed to the test command]"
    _split_at_double_dash(parser)


def _split_at_double_dash(parser: argparse.ArgumentParser) -> None:
    """Everything after ``--`` goes to the test command (``args.test_args``), never to ``path``."""
    parse_known_args = parser.parse_known_args

    def split(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        extra: list[str] = []
        if "--" in words:
            cut = words.index("--")
            words, extra = words[:cut], words[cut + 1 :]
        parsed, rest = parse_known_args(words, namespace)
        parsed.test_args = extra
        return parsed, rest

    setattr(parser, "parse_known_args", split)  # noqa: B010 (an instance, not the class)


@dataclass(frozen=True)
class RunArgs:
    """`uvci run`'s arguments, read once: what to plan, how to run, how to report."""

    request: PlanArgs
    options: RunOptions
    json: bool

    @classmethod
    def parse(cls, args: argparse.Namespace) -> RunArgs:
        command = parse_test_command(args.test_command, args.keyword, args.test_args)
        options = RunOptions(
            command,
            check_jobs(args.jobs),
            args.fail_fast,
            args.require_all,
            fresh=args.fresh,
        )
        return cls(PlanArgs.parse(args), options, args.json)


def run(args: argparse.Namespace) -> int:
    preload("uvci.runner.display")  # rich, while uv checks the lock (it shows nothing before)
    opts = RunArgs.parse(args)
    plan = plan_for(opts.request, default_platform=host_platform())
    from rich.console import Console

    from uvci.runner.display import Progress

    console = Console(file=sys.stderr if opts.json else sys.stdout)
    for note in plan.notes:
        console.print(f"uvci run: note: {note}", highlight=False)
    keep_out_of_git(plan.project.root, run_dir(plan, None))
    cells = discover(plan, opts.options.require_all)
    found = {c.python: c.interpreter.version for c in cells if c.interpreter is not None}
    plan = plan_cells(plan, plan.pythons, found)  # each cell at its interpreter's own version
    with Progress(console, cells) as progress:
        outcome = run_matrix(plan, cells, opts.options, progress)
    report(console, outcome, as_json=opts.json)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FINDINGS if outcome.failed else EXIT_OK


def report(console: Console, outcome: Outcome, *, as_json: bool) -> None:
    from uvci.runner.display import print_failures, summary_table

    console.print(summary_table(outcome.cells, outcome.fetch_seconds, outcome.fetch_note))
    print_failures(console, outcome.cells)
    console.print(f"uvci run: JUnit report {outcome.merged_junit}", highlight=False)
    if as_json:
        print(json.dumps(outcome.to_json(), indent=2))
