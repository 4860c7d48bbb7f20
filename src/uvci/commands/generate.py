"""`uvci generate`: write the GitLab pipeline that fetches every wheel once."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from uvci import __version__
from uvci.errors import FatalError
from uvci.gitlab import generated, yamlio
from uvci.gitlab.component import component_text
from uvci.gitlab.pipeline_gen import GenerateOptions, build_pipeline, local_builds
from uvci.options import add_plan_arguments, plan_from_args, refuse_control_characters
from uvci.plan import Plan
from uvci.platforms import DEFAULT_PLATFORM, resolve_target
from uvci.uvproc import uv_version

SUMMARY = "write the GitLab pipeline that fetches every wheel once"
DESCRIPTION = """\
Write the GitLab CI pipeline for the uv project in PATH (default: the current directory):
.gitlab/ci/uvci.yml, plus an `include: - local: .gitlab/ci/uvci.yml` line in .gitlab-ci.yml
(created if absent; the rest of the file, comments included, is left as it is).

The pipeline (docs/pipeline.md explains every line):
  uvci-prefetch  `uvx --from uvci==VERSION uvci prefetch` fills the wheelhouse .uvci/wheels
                 with exactly the files uv.lock pins for every cell, each fetched once. Cached
                 on uv.lock (falling back to the previous lock's wheelhouse, so a lock change
                 fetches only what changed), and saved only when its content changed.
                 It runs only when uv.lock, pyproject.toml or the pipeline changed, or on
                 a scheduled pipeline (schedule one weekly: it refills an evicted cache).
  uvci-build     builds the project's wheel once, when it is pure Python (no build backend
                 or source that compiles); a compiled project is built in every cell instead.
  uvci-test      parallel:matrix over the plan's Pythons, image
                 ghcr.io/astral-sh/uv:<uv>-python<X>-bookworm-slim, installs offline from the
                 restored wheelhouse (pull-only cache), uv checking every file's hash
                 (fetching the cell's own files if one fails), runs the test command, JUnit
                 report.

The output depends only on the project and the options (and, without --python, on which
CPythons are maintained today: the default matrix drops a version at its end of life):
regenerating an unchanged project rewrites nothing. The file records a hash of its content:
if it was edited by hand, uvci shows the diff and refuses to overwrite it unless --force.

The jobs run in uv's Debian (glibc 2.36) or, for a musl --platform, alpine images: --platform
must be a Linux one those images can run.

exit codes: 0 written (or already up to date), 2 bad input (no or stale uv.lock, a
.gitlab-ci.yml that is not valid YAML, a hand-edited pipeline without --force, a
--platform the images cannot run, a target that cannot be written).

examples:
  uvci generate                                   # the project in the current directory
  uvci generate --python 3.11,3.12 --test-command "pytest -x -q"
  uvci generate --all-extras --group test --torch-backend cpu
  uvci generate --stdout | less
  uvci generate --component ci-components/uvci    # a CI/CD catalog component instead
"""

PIPELINE = Path(".gitlab") / "ci" / "uvci.yml"
IMAGE_GLIBC_MINOR = 36  # Debian bookworm, the uv images' base
NEW_CI_FILE = "# The uvci jobs are in .gitlab/ci/uvci.yml (regenerate with `uvci generate`).\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    _pipeline_arguments(parser.add_argument_group("pipeline"))
    _output_arguments(parser)


def _pipeline_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--test-command",
        default="pytest",
        metavar="CMD",
        help="what each cell runs (default: pytest, with a JUnit report)",
    )
    group.add_argument(
        "--layout",
        choices=("shared", "per-cell"),
        help="one wheelhouse for all cells, or one per Python (default: the "
        "plan's choice, see `uvci plan`)",
    )
    group.add_argument(
        "--project-wheel",
        choices=("auto", "once", "per-cell"),
        default="auto",
        help="build the project's wheel once or in every cell (default: once "
        "when it is pure Python)",
    )
    group.add_argument(
        "--torch-backend",
        metavar="NAME",
        help="set UV_TORCH_BACKEND (e.g. cpu) for the jobs' uv commands",
    )
    group.add_argument(
        "--prepare-stage",
        default="build",
        metavar="STAGE",
        help="stage of the prefetch and build jobs (default: build)",
    )
    group.add_argument(
        "--test-stage",
        default="test",
        metavar="STAGE",
        help="stage of the test matrix (default: test)",
    )
    group.add_argument(
        "--uvci-spec",
        metavar="SPEC",
        help=f"what the jobs run with `uvx --from` (default: uvci=={__version__})",
    )


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output").add_mutually_exclusive_group()
    out.add_argument("--stdout", action="store_true", help="print the pipeline, write nothing")
    out.add_argument(
        "--component",
        type=Path,
        metavar="DIR",
        help="write a CI/CD catalog component, DIR/templates/uvci.yml",
    )
    parser.add_argument("--force", action="store_true",
                        help="overwrite a generated file that was edited by hand")  # fmt: skip


def plan_args(plan: Plan) -> tuple[str, ...]:
    """The plan options `uvci prefetch` must get to plan the same matrix in CI."""
    argv = ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    return (*argv, *plan.selection.uv_args())


def options(args: argparse.Namespace, plan: Plan) -> GenerateOptions:
    _check_options(args, plan)
    return GenerateOptions(
        uv_version=image_uv_version(plan),
        uvci_spec=args.uvci_spec or f"uvci=={__version__}",
        plan_args=plan_args(plan),
        test_command=args.test_command,
        layout=args.layout,
        torch_backend=args.torch_backend,
        prepare_stage=args.prepare_stage,
        test_stage=args.test_stage,
        project_wheel=args.project_wheel,
        image_variant="alpine" if "musl" in plan.platform else "bookworm-slim",
    )


def _check_options(args: argparse.Namespace, plan: Plan) -> None:
    for name in ("test_command", "prepare_stage", "test_stage"):
        if not getattr(args, name).strip():
            option = f"--{name.replace('_', '-')}"
            raise FatalError(f"{option}: empty; give it a value or leave the option out")
    target = resolve_target(plan.platform)
    glibc = re.search(r"manylinux_2_(\d+)_", target.platform_tags[0])
    if target.sys_platform != "linux" or (glibc and int(glibc.group(1)) > IMAGE_GLIBC_MINOR):
        raise FatalError(
            f"--platform {plan.platform}: the generated jobs run in uv's Linux images (glibc "
            f"2.{IMAGE_GLIBC_MINOR}), which cannot install its wheels; use {DEFAULT_PLATFORM}, "
            "an older manylinux, or x86_64-unknown-linux-musl for alpine"
        )


def image_uv_version(plan: Plan) -> str:
    """The images' uv: ``[tool.uv] required-version = "==X.Y.Z"``, else the local uv."""
    required = plan.project.uv_required_version
    pinned = re.fullmatch(r"\s*==\s*(\d+\.\d+\.\d+)\s*", required or "")
    if pinned:
        return pinned.group(1)
    local = uv_version()
    try:
        fits = required is None or SpecifierSet(required).contains(local, prereleases=True)
    except InvalidSpecifier:
        raise FatalError(
            f"{plan.project.pyproject}: [tool.uv] required-version = {required!r} is not a "
            'version specifier; write e.g. ">=0.9"'
        ) from None
    if not fits:
        raise FatalError(
            f"{plan.project.pyproject}: [tool.uv] required-version {required!r} excludes the "
            f'local uv {local}; install a matching uv, or pin it with "==X.Y.Z"'
        )
    return local


def regenerate_command(args: argparse.Namespace, plan: Plan) -> str:
    argv = ["uvx", "--from", f"uvci=={__version__}", "uvci", "generate"]
    if args.python:
        argv += ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    argv += plan.selection.uv_args()
    flags = (("test_command", "pytest"), ("layout", None), ("project_wheel", "auto"),
             ("torch_backend", None), ("prepare_stage", "build"), ("test_stage", "test"),
             ("uvci_spec", None), ("component", None))  # fmt: skip
    for name, default in flags:
        value = getattr(args, name)
        if value != default:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return " ".join(shlex.quote(a) for a in argv)


def run(args: argparse.Namespace) -> int:
    refuse_control_characters(args)  # every value may end up in the YAML: one check, first
    plan = plan_from_args(args, need_fresh_lock=True)
    opts = options(args, plan)
    command = regenerate_command(args, plan)
    if args.component is not None:
        target = args.component / "templates" / "uvci.yml"
        write_generated(target, component_text(plan, opts, command), args.force)
        return 0
    text = generated.render([build_pipeline(plan, opts)], __version__, command)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    ci_text = ci_file_with_include(args.path / ".gitlab-ci.yml")  # bad YAML: fail before writing
    write_generated(args.path / PIPELINE, text, args.force)
    if ci_text is not None:
        yamlio.write_atomic(args.path / ".gitlab-ci.yml", ci_text)
        print("uvci generate: added the include to .gitlab-ci.yml", file=sys.stderr)
    _report(plan, opts)
    return 0


def write_generated(target: Path, text: str, force: bool) -> None:
    """Write ``target`` unless it already says the same, or was edited by hand (no --force)."""
    found = generated.existing(target)
    if found.text == text:
        print(f"uvci generate: {target} is up to date", file=sys.stderr)
        return
    if found.text is not None and found.edited and not force:
        sys.stderr.write(generated.diff(found.text, text, target))
        raise FatalError(
            f"{target}: edited by hand since uvci generated it (diff above); move the change "
            "into the options or .gitlab-ci.yml, or pass --force to overwrite it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FatalError(
            f"{target.parent}: cannot write ({exc.strerror}); make it a writable directory"
        ) from None
    yamlio.write_atomic(target, text)
    print(f"uvci generate: wrote {target}", file=sys.stderr)


def ci_file_with_include(path: Path) -> str | None:
    """The new text of .gitlab-ci.yml with the include, or None when it needs no change."""
    include = PIPELINE.as_posix()
    if not path.exists():
        return f"{NEW_CI_FILE}include:\n  - local: {include}\n"
    doc = yamlio.load_file(path)
    if doc.config is None:  # empty, or only comments: keep them, add the include
        return (
            doc.text.rstrip("\n")
            + ("\n" if doc.text.strip() else "")
            + (f"include:\n  - local: {include}\n")
        )
    return yamlio.dumps(doc) if yamlio.add_local_include(doc, include) else None


def _report(plan: Plan, opts: GenerateOptions) -> None:
    layout = opts.layout or plan.layout
    print(
        f"uvci generate: {len(plan.cells)} cells (Python {', '.join(plan.pythons)}), "
        f"{layout} wheelhouse, uv {opts.uv_version}, jobs run {opts.uvci_spec}",
        file=sys.stderr,
    )
    for reason in local_builds(plan, opts.project_wheel).reasons:
        print(f"uvci generate: {reason}", file=sys.stderr)
