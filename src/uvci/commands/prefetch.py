"""`uvci prefetch`: fill the wheelhouse with exactly the files the matrix cells install.

The thin CLI over :func:`uvci.wheelhouse.fill.fill_wheelhouse`. Besides the wheelhouse it
writes, next to it: ``<wheelhouse>.prefetch.json`` (the ``--json`` report) and
``<wheelhouse>.unchanged`` (only when nothing changed), both removed when a run starts.
"""

from __future__ import annotations

import argparse
import errno
import json
import platform
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from uvci.commands.options import PlanArgs, add_plan_arguments, check_jobs, plan_for
from uvci.commands.plan import unavailable_message
from uvci.errors import EXIT_FINDINGS, FatalError
from uvci.gitlab.generate.toolenv import NOT_IMPORTED_BY_PREFETCH
from uvci.model.plan import Cell, Plan
from uvci.planning import make_plan
from uvci.util.atomicfile import keep_out_of_git, write_if_changed
from uvci.util.progress import make_reporter
from uvci.util.redact import redact
from uvci.util.units import megabytes
from uvci.wheelhouse.fill import (
    PrefetchResult,
    default_wheelhouse,
    display,
    fill_wheelhouse,
    status_paths,
)
from uvci.wheelhouse.layers import FillArgs, LayeredResult, fill_layered
from uvci.wheelhouse.ownership import claim_wheelhouse
from uvci.wheelhouse.retention import Retain, parse_retain

DESCRIPTION = """\
Download, in parallel, exactly the files uv.lock pins for each cell of the matrix into a
wheelhouse directory (default: .uvci/wheels in the project), verify each one's sha256 against
uv.lock, build wheels for packages that only have an sdist (with --build-python, else the
running Python for its own cell, else the Python uv finds; one pure wheel serves every cell),
remove files the lock no longer needs, and write requirements-<python>.txt per cell (every
locked package but the project and workspace members, pinned with their sha256) so a cell
installs offline:

  uv pip install --offline --no-index --find-links .uvci/wheels \\
      -r .uvci/wheels/requirements-3.12.txt

Files already present are verified by hash, not downloaded again; a corrupted one is fetched
again. Downloads use the index credentials and settings uv uses: UV_INDEX_<NAME>_USERNAME and
_PASSWORD for the [[tool.uv.index]] entries of pyproject.toml, ~/.netrc (or NETRC),
SSL_CERT_FILE, HTTP(S)_PROXY/NO_PROXY, UV_HTTP_RETRIES, UV_HTTP_TIMEOUT; each file must
arrive within UV_HTTP_TIMEOUT + size / UVCI_HTTP_MIN_RATE seconds (bytes/s, default 10000; 0:
no deadline).

uvci removes files only from a wheelhouse it created (marked with .uvci-wheelhouse), an empty
directory, or an earlier uvci's wheelhouse; any other --wheelhouse is refused.

Beside the wheelhouse W it writes W.prefetch.json (the --json report) and, when the run changed
nothing, W.unchanged: a GitLab after_script can test for it and skip saving the cache.

exit codes: 0 done, 1 a cell needs a package no locked file fits (as `uvci plan` says; the rest
is filled), 2 bad input or a download that failed (one line says which file and URL).

examples:
  uvci prefetch                          # every cell of the project in the current directory
  uvci prefetch --cell 3.12 --json       # only what the 3.12 cell needs, report as JSON
  uvci prefetch --wheelhouse /cache/wheels --jobs 16
"""


def _interpreter(value: str) -> tuple[str, str]:
    python, sep, path = value.partition("=")
    if not sep or not python or not path:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected 3.X=PATH, e.g. 3.12=/usr/bin/python3.12"
        )
    return python, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    group = parser.add_argument_group("prefetch")
    group.add_argument(
        "--wheelhouse",
        metavar="DIR",
        help="the wheelhouse directory (default: PATH/.uvci/wheels); uvci removes files from it, "
        "so it must be new, empty or a wheelhouse uvci created",
    )
    group.add_argument(
        "--base",
        metavar="DIR",
        help="a larger wheelhouse, rarely rewritten, read before --wheelhouse (the delta): its "
        "files (verified by sha256) are not fetched again, new ones go into the delta, and "
        "only when the delta's uploads since the last rewrite add up to about the base's size "
        "are its files moved into the base (the delta emptied); writes BASE.unchanged too",
    )
    group.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="3.X",
        help="fill only for this cell's Python (repeatable; default: every cell)",
    )
    group.add_argument(
        "--jobs", type=int, default=8, metavar="N", help="parallel downloads (default: 8)"
    )
    group.add_argument(
        "--build-python",
        type=_interpreter,
        action="append",
        default=[],
        metavar="3.X=PATH",
        help="interpreter that builds sdist-only packages for cell 3.X (default: the running "
        "Python, for its own cell)",
    )
    group.add_argument(
        "--retain",
        type=parse_retain,
        metavar="SIZE",
        help="keep files no longer needed, most recently used first, up to Nx the needed bytes "
        "(2x) or a size (500MB); default: remove every file no cell needs",
    )
    group.add_argument(
        "--no-build",
        action="store_true",
        help="leave sdist-only packages as sdists (uv builds them when it installs)",
    )
    group.add_argument(
        "--build-env",
        type=Path,
        metavar="DIR",
        help="also fill with the files of the build backend locked in DIR/uv.lock "
        "(uvci generate writes .gitlab/ci/uvci-build)",
    )
    group.add_argument(
        "--tool-env",
        type=Path,
        metavar="DIR",
        help="also keep the files of the uvci locked in DIR/uv.lock (uvci generate writes "
        ".gitlab/ci/uvci-tool), so a later fill installs uvci offline from the wheelhouse",
    )
    group.add_argument(
        "--frozen",
        action="store_true",
        help="use uv.lock (and the --build-env/--tool-env locks) as they are, without `uv lock "
        "--check`: the generated jobs have just checked them with `uv export --locked`",
    )
    group.add_argument("--json", action="store_true", help="print the report as JSON on stdout")


@dataclass(frozen=True)
class PrefetchOptions:
    """`uvci prefetch`'s arguments, read once."""

    request: PlanArgs
    wheelhouse: Path | None  # None: the project's .uvci/wheels
    base: Path | None  # a base wheelhouse: --wheelhouse is its delta (uvci.wheelhouse.layers)
    cells: tuple[str, ...]
    jobs: int
    build_python: dict[str, str]
    retain: Retain | None
    build: bool
    build_env: Path | None
    tool_env: Path | None
    frozen: bool
    json: bool

    @classmethod
    def parse(cls, args: argparse.Namespace) -> PrefetchOptions:
        return cls(
            request=PlanArgs.parse(args),
            wheelhouse=None if args.wheelhouse is None else Path(args.wheelhouse),
            base=None if args.base is None else Path(args.base),
            cells=tuple(args.cell),
            jobs=check_jobs(args.jobs),
            build_python=dict(args.build_python),
            retain=args.retain,
            build=not args.no_build,
            build_env=args.build_env,
            tool_env=args.tool_env,
            frozen=args.frozen,
            json=args.json,
        )


def run(args: argparse.Namespace) -> int:
    opts = PrefetchOptions.parse(args)
    plan = _plan(opts)
    root = opts.request.path
    wheelhouse = opts.wheelhouse or default_wheelhouse(root)
    claim_wheelhouse(wheelhouse)  # before anything is written
    keep_out_of_git(root, wheelhouse)
    status = status_paths(wheelhouse)
    writable = _clear(status.unchanged, status.report)
    if opts.base is None:
        result = _fill(opts, plan, wheelhouse)
        changed = result.changed
    else:
        result, changed = _fill_layered(opts, plan, opts.base, wheelhouse)
    report = json.dumps(result.to_json(), indent=2) + "\n"
    if writable:
        write_if_changed(status.report, report)
        if not changed:
            write_if_changed(status.unchanged, "wheelhouse unchanged by uvci prefetch\n")
    if opts.json:
        sys.stdout.write(report)
    problem = unavailable_message(plan, result.cells)  # as `uvci plan` says it, and exits 1
    if problem is not None:
        print(f"uvci prefetch: {problem}", file=sys.stderr)
        return EXIT_FINDINGS
    return 0


def _plan(opts: PrefetchOptions) -> Plan:
    """The project's plan, with the build backend's and uvci's own files when asked."""
    interpreters = running_interpreter()
    plan = plan_for(opts.request, interpreters=interpreters, check_lock=not opts.frozen)
    root = opts.request.path
    if opts.build_env is not None:
        plan = with_build_env(plan, root / opts.build_env, interpreters, opts.frozen)
    if opts.tool_env is not None:
        plan = with_build_env(plan, root / opts.tool_env, interpreters, opts.frozen,
                              "uvci tool env", skip=NOT_IMPORTED_BY_PREFETCH)  # fmt: skip
    return plan


def with_build_env(
    plan: Plan, directory: Path, interpreters: dict[str, str], frozen: bool = False,
    what: str = "build backend", skip: tuple[str, ...] = (),
) -> Plan:  # fmt: skip
    """``plan`` whose cells also install the env locked in ``directory`` (the build backend,
    or uvci itself), but for the packages named in ``skip``."""
    if not (directory / "uv.lock").is_file():
        raise FatalError(
            f"{directory}: no uv.lock of the {what}; run `uvci generate` and commit it"
        )
    backend = make_plan(directory, python=plan.pythons, platform=plan.platform,
                        interpreters=interpreters, check_lock=not frozen)  # fmt: skip
    by_python = {
        cell.python: tuple(p for p in cell.packages if p.name not in skip) for cell in backend.cells
    }
    cells = tuple(
        Cell(cell.python, (*cell.packages, *by_python.get(cell.python, ()))) for cell in plan.cells
    )
    return replace(plan, cells=cells)


def running_interpreter() -> dict[str, str]:
    """This Python's version, for its own cell: in a generated job, the cell's interpreter."""
    major, minor = sys.version_info[:2]
    return {f"{major}.{minor}": platform.python_version()}


def _clear(*paths: Path) -> bool:
    """Remove the last run's status files: a failed run must not say "unchanged".

    False when they sit on a read-only file system: then nothing can change there either, and
    the old status files stay true (the fill fails if the wheelhouse needs a change)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            if exc.errno == errno.EROFS:
                print(f"uvci prefetch: note: {path.parent} is read-only", file=sys.stderr)
                return False
            raise FatalError(f"{path}: cannot remove: {exc.strerror}; check permissions") from None
    return True


def _fill(opts: PrefetchOptions, plan: Plan, wheelhouse: Path) -> PrefetchResult:
    reporter = make_reporter(sys.stderr, section="uvci_prefetch")
    try:
        result = fill_wheelhouse(
            plan,
            wheelhouse,
            cells=opts.cells,
            jobs=opts.jobs,
            reporter=reporter,
            interpreters=opts.build_python,
            retain=opts.retain,
            build=opts.build,
        )
    except BaseException:
        reporter.end("")  # close the log section (or the progress bar); the error line follows
        raise
    reporter.end(summary(result))
    for note in result.notes:
        print(f"uvci prefetch: note: {redact(note)}", file=sys.stderr)
    return result


def _fill_layered(
    opts: PrefetchOptions, plan: Plan, base: Path, delta: Path
) -> tuple[PrefetchResult, bool]:
    """Fill ``delta`` on top of ``base``; mark an unchanged base as ``<base>.unchanged`` (the
    delta's mark is the caller's). Returns the report's fill and whether the delta changed."""
    claim_wheelhouse(base)
    base_status = status_paths(base)
    writable = _clear(base_status.unchanged)
    reporter = make_reporter(sys.stderr, section="uvci_prefetch")
    args = FillArgs(opts.cells, opts.jobs, reporter, opts.build_python, None, opts.retain,
                    opts.build)  # fmt: skip
    try:
        layered = fill_layered(plan, base, delta, args)
    except BaseException:
        reporter.end("")
        raise
    reporter.end(summary(layered.delta))
    print(layer_summary(layered), file=sys.stderr)
    for note in layered.delta.notes:
        print(f"uvci prefetch: note: {redact(note)}", file=sys.stderr)
    if writable and not layered.base_changed:
        write_if_changed(base_status.unchanged, "wheelhouse unchanged by uvci prefetch\n")
    return layered.delta, layered.delta_changed


def layer_summary(layered: LayeredResult) -> str:
    sizes = f"base {megabytes(layered.base_bytes)}, delta {megabytes(layered.delta_bytes)}"
    if layered.rewrote:
        return f"uvci prefetch: base rewritten with the delta's files, delta emptied ({sizes})"
    state = "changed" if layered.delta_changed else "unchanged"
    return f"uvci prefetch: base unchanged, delta {state} ({sizes})"


def summary(result: PrefetchResult) -> str:
    actions = result.actions()
    parts = [f"{label} {totals.files} ({megabytes(totals.bytes)})" for label, totals in actions]
    state = "changed" if result.changed else "unchanged"
    return f"uvci prefetch: {display(result.wheelhouse)} {state}: " + ", ".join(parts)
