"""Arguments every plan-based command shares (plan, generate, prefetch, run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from uvci.errors import FatalError
from uvci.plan import Plan, make_plan
from uvci.platforms import DEFAULT_PLATFORM
from uvci.selection import Selection


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
        default=DEFAULT_PLATFORM,
        metavar="NAME",
        help=f"uv's --python-platform name of the CI image (default: {DEFAULT_PLATFORM}, the "
        "glibc of uv's Debian bookworm images; x86_64-unknown-linux-musl for alpine)",
    )
    sel = parser.add_argument_group("what to install (the same flags as `uv sync`)")
    sel.add_argument("--extra", action="append", default=[], metavar="EXTRA")
    sel.add_argument("--all-extras", action="store_true")
    sel.add_argument("--group", action="append", default=[], metavar="GROUP")
    sel.add_argument("--all-groups", action="store_true")
    sel.add_argument("--only-group", action="append", default=[], metavar="GROUP")
    sel.add_argument("--no-dev", action="store_true")
    sel.add_argument("--no-default-groups", action="store_true")
    sel.add_argument("--package", action="append", default=[], metavar="MEMBER")
    sel.add_argument("--all-packages", action="store_true")


def selection_from_args(args: argparse.Namespace) -> Selection:
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


def plan_from_args(args: argparse.Namespace, root: Path | None = None) -> Plan:
    root = root if root is not None else args.path
    if not root.is_dir():
        raise FatalError(f"{root}: no such directory; pass the project directory")
    return make_plan(
        root,
        python=args.python,
        platform=args.platform,
        selection=selection_from_args(args),
    )
