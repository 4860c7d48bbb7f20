"""`uvci doctor`: find (and fix) what makes an existing uv pipeline slow or wrong."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from uvci.doctor import catalog, engine, fixer, render
from uvci.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FatalError
from uvci.gitlab.read.inputs import parse_cli
from uvci.util.redact import redact

DESCRIPTION = """\
Read .gitlab-ci.yml (and what it includes locally), interpolate spec: inputs, resolve extends,
!reference, anchors, default: and parallel: matrix the way GitLab does, expand each job's
variables, and report what makes the uv jobs slow or wrong: caches that hold nothing useful,
keys that ignore uv.lock, a matrix sharing one cache, unlocked installs, uv installed in every
job, unpinned tools, a stale uv.lock, and more (rules UVC001-UVC024). Every finding names
file:line and the fix. --fix adds --locked only where uv.lock is up to date.

examples:
  uvci doctor                      check ./.gitlab-ci.yml
  uvci doctor ci/pipeline.yml      check another file (its directory is the project)
  uvci doctor --dry-run            show the fixes as a diff, change nothing
  uvci doctor --fix                apply them (comments, anchors and key order kept)
  uvci doctor --format codeclimate > gl-code-quality-report.json
  uvci doctor --explain UVC003     what a rule means, what it costs, how to fix it
  uvci doctor --input py=3.12      a value for an input of the file's `spec: inputs`

The diff --dry-run and --fix print shows URL passwords as ****; --fix writes the real file.
A pipeline file over 2 MiB (GitLab's default max_yaml_size_bytes) is refused.

exit codes: 0 no findings, 1 findings, 2 the pipeline could not be read
"""


@dataclass(frozen=True)
class DoctorConfig:
    path: Path
    fmt: str
    fix: bool
    dry_run: bool
    select: tuple[str, ...]
    inputs: dict[str, str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=".", type=Path, help="project dir or pipeline file (default .)"
    )
    parser.add_argument(
        "--format",
        choices=render.FORMATS,
        default="text",
        dest="fmt",
        help="text for people (default); json; codeclimate for GitLab's Code Quality report",
    )
    parser.add_argument("--fix", action="store_true", help="rewrite the files it can fix")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the fixes as a unified diff only"
    )
    parser.add_argument("--explain", metavar="UVCxxx", help="print a rule's full explanation")
    parser.add_argument(
        "--select", metavar="IDS", default="", help="only these rules, comma-separated"
    )
    parser.add_argument(
        "--input",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        dest="inputs",
        help="a value for the pipeline's `spec: inputs` (repeatable; the rest use defaults)",
    )


def run(args: argparse.Namespace) -> int:
    if args.explain:
        sys.stdout.write(render.explain(catalog.rule(args.explain)))
        return EXIT_OK
    config = DoctorConfig(
        path=args.path,
        fmt=args.fmt,
        fix=args.fix,
        dry_run=args.dry_run,
        select=tuple(s.strip() for s in args.select.split(",") if s.strip()),
        inputs=parse_cli(args.inputs),
    )
    for rule_id in config.select:
        catalog.rule(rule_id)
    return doctor(config)


def doctor(config: DoctorConfig) -> int:
    fixing = config.fix or config.dry_run
    report = engine.check(config.path, config.select, for_fix=fixing, inputs=config.inputs)
    if config.fix or config.dry_run:
        report = _fix(config, report)
    sys.stdout.write(redact(render.render(report, config.fmt)))  # scripts may hold secrets
    return EXIT_FINDINGS if report.findings else EXIT_OK


def _fix(config: DoctorConfig, report: engine.Report) -> engine.Report:
    notes: list[str] = []
    changes = fixer.plan_fixes(report.pipeline, report.findings, notes)
    out = sys.stdout if config.fmt == "text" else sys.stderr
    for note in notes:
        out.write(redact(note) + "\n")
    masked = False
    for change in changes:
        diff = change.diff(render.shown_path(change.path, report.pipeline.project_dir))
        shown = redact(diff)  # the pipeline's own URL passwords are not printed either
        masked |= shown != diff
        out.write(shown)
    if masked:
        out.write(
            "secrets in the diff are shown as ****, so it does not apply as it is: "
            "`--fix` writes the real file\n"
        )
    if not changes:
        out.write("nothing to fix automatically\n")
    if config.dry_run or not changes:
        return report
    fixer.write(changes)
    try:
        return engine.check(config.path, config.select, inputs=config.inputs)
    except FatalError as exc:  # our own output must always read back
        raise FatalError(f"after --fix: {exc.message}", EXIT_USAGE) from None
