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
from uvci.gitlab.buildenv import (
    BuildRequires,
    build_requires,
    project_tool_uv,
    pyproject_text,
    write_build_env,
)
from uvci.gitlab.component import component_text
from uvci.gitlab.images import CHECKED, GLIBC, check_images, published
from uvci.gitlab.pipeline_gen import (
    BUILD_ENV,
    DEFAULT_RETAIN,
    GenerateOptions,
    LocalBuilds,
    build_pipeline,
    local_builds,
)
from uvci.gitlab.pipeline_scripts import is_pytest
from uvci.options import add_plan_arguments, plan_from_args
from uvci.plan import Plan
from uvci.platforms import DEFAULT_PLATFORM, resolve_target
from uvci.release import unreleased_note
from uvci.uvproc import uv_version

SUMMARY = "write the GitLab pipeline: one test matrix, each cell keeping its own wheelhouse"
DESCRIPTION = """\
Write the GitLab CI pipeline for the uv project in PATH (default: the current directory):
.gitlab/ci/uvci.yml, plus an `include: - local: .gitlab/ci/uvci.yml` line in .gitlab-ci.yml
(created if absent; the rest of the file, comments included, is left as it is), and
.gitlab/ci/uvci-build/ (the project's build backend, locked with hashes by `uv lock`).

The pipeline is one stage (docs/pipeline.md explains every line):
  uvci-test  parallel:matrix over the plan's Pythons, image
             ghcr.io/astral-sh/uv:<uv>-python<X>-trixie-slim. Each cell exports what it
             installs from the checked-out uv.lock (`uv export`, hashes included), installs
             offline from its own wheelhouse cache (.uvci/wheels) with uv checking every hash,
             builds the project with the locked build backend, runs the test command and
             publishes a JUnit report. Only when a file is missing or fails its hash does it run
             `uvx --from uvci==VERSION uvci prefetch --cell` (uvci pinned, from the index),
             which fetches just those files; the cache is uploaded only when the cell changed
             it. A warm cell needs nothing but uv and a shell, and takes nothing from the index.

The cache key is per cell (Python and platform; one key for every cell with --layout shared,
written by the newest Python's cell only). The wheelhouse keeps the current lock's files plus
those of recently used locks, up to --retain (default 2x the cell's bytes), oldest out first:
branches with different locks stop refetching each other's files. An evicted cache refills in
the next pipeline; no schedule is needed.

Costs: building in every cell costs each cell the build (seconds for a pure-Python project) but
adds no stage; --build-once adds a build job (a stage on the critical path: on GitLab.com every
job waits for a fresh VM) and tests that one wheel everywhere. A project versioned from git
(hatch-vcs, setuptools-scm) is given the version 0.0.0+g<commit> through
SETUPTOOLS_SCM_PRETEND_VERSION: uv's images have no git.

The output depends only on the project and the options (and, without --python, on which
CPythons are maintained today: the default matrix drops a version at its end of life):
regenerating an unchanged project rewrites nothing. The file records a hash of its content:
if it was edited by hand, uvci shows the diff and refuses to overwrite it unless --force.

The jobs run in uv's Debian trixie (glibc 2.41) or, for a musl --platform, alpine images:
--platform must be a Linux one those images can run, and every Python must have an image.

exit codes: 0 written (or already up to date), 2 bad input (no or stale uv.lock, a
.gitlab-ci.yml that is not valid YAML, a hand-edited pipeline without --force, a
--platform the images cannot run, a Python or uv with no published image, a test command
that is not in the locked environment, a build backend that cannot be locked, a target that
cannot be written).

examples:
  uvci generate                                   # the project in the current directory
  uvci generate --python 3.11,3.12 --test-command "pytest -x -q"
  uvci generate --all-extras --group test --torch-backend cpu
  uvci generate --build-once --retain 500MB
  uvci generate --stdout | less
  uvci generate --component ci-components/uvci    # a CI/CD catalog component instead
"""

PIPELINE = Path(".gitlab") / "ci" / "uvci.yml"
NEW_CI_FILE = "# The uvci jobs are in .gitlab/ci/uvci.yml (regenerate with `uvci generate`).\n"
_RETAIN = re.compile(r"^(\d+(\.\d+)?x|\d+(\.\d+)?\s*(B|KB|MB|GB|K|M|G)?)$", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    _pipeline_arguments(parser.add_argument_group("pipeline"))
    _output_arguments(parser)


def _pipeline_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--test-command", default="pytest", metavar="CMD",
                       help="what each cell runs (default: pytest, with a JUnit report); "
                       "pytest must be in the locked environment")  # fmt: skip
    group.add_argument("--layout", choices=("shared", "per-cell"),
                       help="one wheelhouse for all cells (written by the newest Python's "
                       "cell), or one per cell (default: the plan's choice)")  # fmt: skip
    group.add_argument("--build-once", action="store_true",
                       help="build the project's wheel once in a uvci-build job and test it in "
                       "every cell (adds a stage); default: each cell builds it")  # fmt: skip
    group.add_argument("--retain", default=DEFAULT_RETAIN, metavar="SIZE",
                       help="how much the wheelhouse keeps: Nx the cell's bytes, or a size "
                       f"(500MB); default {DEFAULT_RETAIN}")  # fmt: skip
    group.add_argument("--build-requires", action="append", default=[], metavar="REQ",
                       help="another build requirement to lock with the build backend (e.g. "
                       "setuptools, for an sdist-only dependency); repeatable")  # fmt: skip
    group.add_argument(
        "--torch-backend",
        metavar="NAME",
        help="set UV_TORCH_BACKEND (e.g. cpu) for the jobs' uv commands",
    )
    group.add_argument(
        "--build-stage",
        default="build",
        metavar="STAGE",
        help="stage of the --build-once job (default: build)",
    )
    group.add_argument(
        "--test-stage",
        default="test",
        metavar="STAGE",
        help="stage of the test matrix (default: test)",
    )
    group.add_argument("--uvci-spec", metavar="SPEC",
                       help=f"what the cells run with `uvx --from` to fill the wheelhouse "
                       f"(default: uvci=={__version__})")  # fmt: skip


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output").add_mutually_exclusive_group()
    out.add_argument("--stdout", action="store_true", help="print the pipeline, write nothing")
    out.add_argument(
        "--component",
        type=Path,
        metavar="DIR",
        help="write this project's pipeline as a CI/CD component, DIR/templates/uvci.yml (the "
        "generic catalog component, for any project: templates/uvci/template.yml in uvci)",
    )
    parser.add_argument("--force", action="store_true",
                        help="overwrite a generated file that was edited by hand")  # fmt: skip


def plan_args(plan: Plan) -> tuple[str, ...]:
    """The plan options `uvci prefetch` must get to plan the same matrix in CI."""
    argv = ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    return (*argv, *plan.selection.uv_args())


def options(args: argparse.Namespace, plan: Plan, requires: BuildRequires) -> GenerateOptions:
    _check_options(args, plan)
    variant = _variant(plan)
    uv = image_uv_version(plan)
    check_images(uv, plan.pythons, variant)
    return GenerateOptions(
        uv_version=uv,
        uvci_spec=args.uvci_spec or f"uvci=={__version__}",
        plan_args=plan_args(plan),
        selection=tuple(plan.selection.uv_args()),
        test_command=args.test_command,
        layout=args.layout,
        torch_backend=args.torch_backend,
        build_stage=args.build_stage,
        test_stage=args.test_stage,
        build_once=args.build_once,
        retain=args.retain.replace(" ", ""),
        image_variant=variant,
        platform_slug=plan.platform.split("-")[0],
        build_env=bool(requires.requirements),
        scm_version=requires.scm_versioned,
    )


def _check_options(args: argparse.Namespace, plan: Plan) -> None:
    for name in ("test_command", "build_stage", "test_stage"):
        if not getattr(args, name).strip():
            option = f"--{name.replace('_', '-')}"
            raise FatalError(f"{option}: empty; give it a value or leave the option out")
    if not _RETAIN.match(args.retain.strip()):
        raise FatalError(f"--retain {args.retain!r}: give a multiple (2x) or a size (500MB)")
    target = resolve_target(plan.platform)
    glibc = re.search(r"manylinux_2_(\d+)_", target.platform_tags[0])
    if target.sys_platform != "linux" or (glibc and int(glibc.group(1)) > GLIBC[1]):
        raise FatalError(
            f"--platform {plan.platform}: the generated jobs run in uv's Linux images (glibc "
            f"2.{GLIBC[1]}), which cannot install its wheels; use {DEFAULT_PLATFORM}, "
            "an older manylinux, or x86_64-unknown-linux-musl for alpine"
        )
    _check_test_command(args.test_command, plan)


def _check_test_command(command: str, plan: Plan) -> None:
    """pytest must come from the cell's environment, as `uvci run` requires."""
    if not is_pytest(command):
        return
    missing = [c.python for c in plan.cells if all(p.name != "pytest" for p in c.packages)]
    if missing:
        raise FatalError(
            f"--test-command {command!r}: pytest is not in uv.lock for the selected groups "
            f"(cell {missing[0]}); add it (`uv add --dev pytest`), select its group "
            "(--group), or give another --test-command"
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


def regenerate_command(args: argparse.Namespace, plan: Plan, explicit_python: bool) -> str:
    argv = ["uvx", "--from", f"uvci=={__version__}", "uvci", "generate"]
    if explicit_python:
        argv += ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    argv += plan.selection.uv_args()
    flags = (("test_command", "pytest"), ("layout", None), ("build_once", False),
             ("retain", DEFAULT_RETAIN), ("torch_backend", None), ("build_stage", "build"),
             ("test_stage", "test"), ("uvci_spec", None), ("component", None))  # fmt: skip
    for name, default in flags:
        value = getattr(args, name)
        if value is True:
            argv.append(f"--{name.replace('_', '-')}")
        elif value != default:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    for requirement in args.build_requires:
        argv += ["--build-requires", requirement]
    return " ".join(shlex.quote(a) for a in argv)


def run(args: argparse.Namespace) -> int:
    explicit_python = bool(args.python)
    plan = _plan(args)
    builds = local_builds(plan)
    requires = build_requires(
        [plan.project.root / d for d in builds.directories], args.build_requires
    )
    opts = options(args, plan, requires)
    command = regenerate_command(args, plan, explicit_python)
    if args.component is not None:
        target = args.component / "templates" / "uvci.yml"
        write_generated(target, component_text(plan, opts, command), args.force)
    elif args.stdout:
        sys.stdout.write(generated.render([build_pipeline(plan, opts)], __version__, command))
    else:
        _write_pipeline(args, plan, opts, requires, command)
    note = unreleased_note(opts.uvci_spec) if args.uvci_spec is None else None
    if note:  # last: after what was written, and never before a one-line error
        print(f"uvci generate: note: {note}", file=sys.stderr)
    return 0


def _write_pipeline(
    args: argparse.Namespace, plan: Plan, opts: GenerateOptions, requires: BuildRequires,
    command: str,
) -> None:  # fmt: skip
    text = generated.render([build_pipeline(plan, opts)], __version__, command)
    ci_text = ci_file_with_include(args.path / ".gitlab-ci.yml")  # bad YAML: fail before writing
    if opts.build_env:
        _write_build_env(plan, requires)
    write_generated(args.path / PIPELINE, text, args.force)
    if ci_text is not None:
        yamlio.write_atomic(args.path / ".gitlab-ci.yml", ci_text)
        print("uvci generate: added the include to .gitlab-ci.yml", file=sys.stderr)
    _report(plan, opts, local_builds(plan))


def _plan(args: argparse.Namespace) -> Plan:
    """The plan; without --python, of the maintained CPythons that uv publishes an image for."""
    plan = plan_from_args(args)
    variant = _variant(plan)
    keep = published(plan.pythons, variant)
    if args.python or keep == plan.pythons or not keep:
        return plan
    left = ", ".join(p for p in plan.pythons if p not in keep)
    print(
        f"uvci generate: note: Python {left} left out of the default matrix: uv publishes no "
        f"{variant} image for it yet (checked {CHECKED}); pass --python to choose",
        file=sys.stderr,
    )
    args.python = list(keep)
    return plan_from_args(args)


def _variant(plan: Plan) -> str:
    return "alpine" if "musl" in plan.platform else "trixie-slim"


def _write_build_env(plan: Plan, requires: BuildRequires) -> None:
    directory = plan.project.root / BUILD_ENV
    text = pyproject_text(
        requires, str(plan.project.requires_python), project_tool_uv(plan.project.root)
    )
    if write_build_env(directory, text):
        print(f"uvci generate: locked the build backend in {directory}", file=sys.stderr)


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


def _report(plan: Plan, opts: GenerateOptions, builds: LocalBuilds) -> None:
    layout = opts.layout or plan.layout
    print(
        f"uvci generate: {len(plan.cells)} cells (Python {', '.join(plan.pythons)}), "
        f"{layout} wheelhouse, uv {opts.uv_version}, cells fill it with {opts.uvci_spec}",
        file=sys.stderr,
    )
    where = "once in uvci-build" if opts.build_once else "in every cell"
    for reason in builds.reasons:
        print(f"uvci generate: {reason}; built {where}", file=sys.stderr)
