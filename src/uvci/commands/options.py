"""Arguments every plan-based command shares (plan, generate, prefetch, run), parsed once into
:class:`PlanArgs`, and the plan they ask for."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from uvci.errors import FatalError
from uvci.model.plan import Plan
from uvci.model.platforms import DEFAULT_PLATFORM
from uvci.model.selection import Selection
from uvci.planning import make_plan
from uvci.util.redact import redact


def check_jobs(jobs: int) -> int:
    """``--jobs`` of every command: a whole number of at least 1."""
    if jobs < 1:
        raise FatalError(f"--jobs {jobs}: must be at least 1")
    return jobs


def _csv(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("no versions given; write e.g. 3.11,3.12")
    return parts


def add_plan_arguments(parser: argparse.ArgumentParser, *, with_path: bool = True) -> None:
    if with_path:
        parser.add_argument(
            "path",
            nargs="?",
            default=".",
            type=Path,
            help="the project directory, holding pyproject.toml and uv.lock (default: .)",
        )
    matrix = parser.add_argument_group("matrix")
    matrix.add_argument(
        "--python",
        type=_csv,
        metavar="3.X,3.Y",
        help="Python versions to plan for (default: every maintained CPython that "
        "requires-python allows)",
    )
    matrix.add_argument(
        "--platform",
        metavar="NAME",
        help=f"uv's --python-platform name of the CI image (default: {DEFAULT_PLATFORM}, the "
        "glibc of uv's Debian trixie images; x86_64-unknown-linux-musl for alpine; for "
        "`uvci run`, this machine)",
    )
    sel = parser.add_argument_group("what to install (the same flags as `uv sync`)")
    for flag, metavar, text in _SELECTION_FLAGS:
        if metavar is None:
            sel.add_argument(flag, action="store_true", help=text)
        else:
            sel.add_argument(flag, action="append", default=[], metavar=metavar, help=text)


_SELECTION_FLAGS: tuple[tuple[str, str | None, str], ...] = (
    ("--extra", "EXTRA", "include this optional-dependencies extra (repeatable)"),
    ("--all-extras", None, "include every extra"),
    ("--group", "GROUP", "include this dependency group (repeatable)"),
    ("--all-groups", None, "include every dependency group"),
    ("--only-group", "GROUP", "install only this group, not the project (repeatable)"),
    ("--no-dev", None, "leave out the dev group"),
    ("--no-default-groups", None, "leave out [tool.uv] default-groups (default: dev)"),
    ("--package", "MEMBER", "plan for this workspace member (repeatable)"),
    ("--all-packages", None, "plan for every workspace member"),
)


@dataclass(frozen=True)
class PlanArgs:
    """What a plan-based command was asked to plan, read once from the parsed arguments."""

    command: str
    path: Path
    python: tuple[str, ...] | None
    platform: str | None
    selection: Selection

    @classmethod
    def parse(cls, args: argparse.Namespace) -> PlanArgs:
        return cls(
            command=args.command,
            path=args.path,
            python=tuple(args.python) if args.python else None,
            platform=args.platform,
            selection=_selection(args),
        )


def _selection(args: argparse.Namespace) -> Selection:
    if args.only_group and (args.group or args.all_groups):
        raise FatalError("--only-group cannot be combined with --group or --all-groups")
    return Selection(
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        groups=tuple(args.group),
        all_groups=args.all_groups,
        no_dev=args.no_dev,
        only_groups=tuple(args.only_group),
        no_default_groups=args.no_default_groups,
        packages=tuple(args.package),
        all_packages=args.all_packages,
    )


def plan_for(
    request: PlanArgs,
    root: Path | None = None,
    interpreters: Mapping[str, str] | None = None,
    *,
    need_fresh_lock: bool = False,
    default_platform: str = DEFAULT_PLATFORM,
    check_lock: bool = True,
) -> Plan:
    """The plan ``request`` asks for; ``interpreters`` (minor -> full version): the Pythons the
    cells really run, where the command knows them (:mod:`uvci.model.patchlevels`). A lock
    whose freshness uv could not check is a warning on stderr, or with ``need_fresh_lock`` an
    error. ``default_platform``: without --platform (`uvci run`: this machine's);
    ``check_lock`` False: the caller has had uv check the lock (`uvci prefetch --frozen`)."""
    root = root if root is not None else request.path
    if not root.is_dir():
        raise FatalError(f"{root}: no such directory; pass the project directory")
    plan = make_plan(
        root,
        python=request.python,
        platform=request.platform or default_platform,
        selection=request.selection,
        interpreters=interpreters,
        check_lock=check_lock,
    )
    if need_fresh_lock and plan.lock_unchecked:
        raise FatalError(
            f"{plan.lock.path}: freshness not checked, and a pipeline is generated only for a "
            f"lock known to be fresh: {plan.lock_unchecked}"
        )
    for warning in plan.warnings:
        print(f"uvci {request.command}: warning: {redact(warning)}", file=sys.stderr)
    return plan


# Characters no option value written into YAML may hold: C0 controls (newline and tab
# included), DEL, C1 controls and the Unicode line/paragraph separators YAML breaks lines on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def refuse_control_characters(args: argparse.Namespace) -> None:
    """Every option value (text, path or list of them) on one line, free of control characters:
    `uvci generate` writes them into YAML, where a newline would start a new key."""
    for name, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, (str, Path)) and _CONTROL.search(str(item)):
                flag = "PATH" if name == "path" else f"--{name.replace('_', '-')}"
                raise FatalError(
                    f"{flag} {str(item)!r}: holds a control character (a newline, tab, ...), "
                    "which would be written into the generated YAML; pass it on one line"
                )
