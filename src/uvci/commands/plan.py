"""`uvci plan` (being built)."""

from __future__ import annotations

import argparse

from uvci.errors import FatalError

SUMMARY = "(plan: being built)"
DESCRIPTION = SUMMARY


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise FatalError("not built yet")
