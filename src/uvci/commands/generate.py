"""`uvci generate`: write the GitLab pipeline that fetches every wheel once."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from uvci import __version__
from uvci.commands import generate_replace
from uvci.commands.generate_options import (
    GenerateArgs,
    generate_plan,
    options,
    regenerate_command,
)
from uvci.commands.generate_report import report, report_bytes
from uvci.commands.options import add_plan_arguments
from uvci.errors import FatalError
from uvci.gitlab.generate import header, toolenv
from uvci.gitlab.generate.buildenv import (
    BuildRequires,
    build_requires,
    project_tool_uv,
    pyproject_text,
    write_build_env,
)
from uvci.gitlab.generate.component import component_text
from uvci.gitlab.generate.confine import refuse_links_out
from uvci.gitlab.generate.pipeline import (
    BUILD_ENV,
    DEFAULT_RETAIN,
    GenerateOptions,
    build_pipeline,
    local_builds,
)
from uvci.gitlab.generate.release import unreleased_reason
from uvci.gitlab.generate.toolenv import TOOL_ENV
from uvci.gitlab.generate.uvcispec import unlockable
from uvci.gitlab.yaml import roundtrip
from uvci.model.plan import Plan
from uvci.util.atomicfile import write_atomic

DESCRIPTION = """\
Write the GitLab CI pipeline for the uv project in PATH (default: the current directory):
.gitlab/ci/uvci.yml, plus an `include: - local: .gitlab/ci/uvci.yml` line in .gitlab-ci.yml
(created if absent; the rest of the file, comments included, is left as it is),
.gitlab/ci/uvci-build/ (the project's build backend, locked with hashes by `uv lock`) and, for a
released --uvci-spec uvci==X.Y.Z the index serves, .gitlab/ci/uvci-tool/ (uvci, locked so).
The cells run uvci only pinned by hash: that lock, a wheel URL with its #sha256= (a wheel you
host: docs/release.md) or uvci's own checkout (--uvci-spec .); any other --uvci-spec, or a
release uv cannot lock, is refused (exit 2). Nothing is written or read through a link that
leads out of the project.

The pipeline is one stage (docs/pipeline.md explains every line):
  uvci-test  parallel:matrix over the plan's Pythons, image
             ghcr.io/astral-sh/uv:<uv>-python<X>-trixie-slim. Each cell exports what it
             installs from the checked-out uv.lock (`uv export`, hashes included), installs
             offline from its own wheelhouse cache (.uvci/wheels) with uv checking every hash,
             builds the project with the locked build backend, runs the test command and
             publishes a JUnit report. Only when a file is missing or fails its hash does it run
             `uvci prefetch --cell` (uvci as uvci-tool/uv.lock pins it, from the wheelhouse once
             a fill kept it there; else the hashed wheel), which fetches just those files; the
             cache is uploaded only when the cell changed it. A warm cell needs nothing but uv
             and a shell, and takes nothing from the index.

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
cannot be written, a --uvci-spec not pinned by hash, a link out of the project).

examples:
  uvci generate                                   # the project in the current directory
  uvci generate --python 3.11,3.12 --test-command "pytest -x -q"
  uvci generate --all-extras --group test --torch-backend cpu
  uvci generate --build-once --retain 500MB
  uvci generate --stdout | less
  uvci generate --component ci-components/uvci    # a CI/CD catalog component instead
  uvci generate --replace                         # and remove the old test jobs it replaces
  uvci generate --coverage --system-packages less # a coverage report; apt-get install less

Your own keys for uvci-test (services, variables, before_script, rules, tags) go under a
`uvci-test:` key in .gitlab-ci.yml: GitLab merges them, and regenerating leaves them alone
(docs/pipeline.md, "Extending uvci-test", says which keys are safe).
"""

PIPELINE = Path(".gitlab") / "ci" / "uvci.yml"
COMPONENT_FILE = Path("templates") / "uvci.yml"
NEW_CI_FILE = "# The uvci jobs are in .gitlab/ci/uvci.yml (regenerate with `uvci generate`).\n"


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
    group.add_argument(
        "--system-packages",
        action="append",
        default=[],
        metavar="PKGS",
        help="system packages each cell installs first, comma-separated (apt-get in the "
        "trixie images, apk in alpine; not cached); repeatable",
    )
    group.add_argument(
        "--coverage",
        action="store_true",
        help="publish a coverage report: pytest-cov (which uv.lock must have) measures the "
        "project's package, the job's coverage: regex reads its total, Cobertura XML goes "
        "to artifacts:reports:coverage_report",
    )
    group.add_argument(
        "--coverage-package",
        metavar="NAME",
        help="what --coverage measures (default: the project's import name)",
    )
    group.add_argument("--uvci-spec", metavar="SPEC",
                       help=f"the uvci the cells run to fill the wheelhouse, pinned by hash: "
                       f"a release, locked in .gitlab/ci/uvci-tool (default: uvci=={__version__}"
                       "), 'uvci @ https://.../uvci-X.Y.Z-py3-none-any.whl#sha256=HEX' (a wheel "
                       "you host, docs/release.md) or . (uvci's own checkout); anything else "
                       "is refused")  # fmt: skip


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
    parser.add_argument("--replace", action="store_true",
                        help="remove the jobs uvci-test replaces (they install the project with "
                        "uv or pip and run its tests on a Python of the matrix) from "
                        ".gitlab-ci.yml and its local includes, showing the diff; without it "
                        "they are named in a note")  # fmt: skip


def run(namespace: argparse.Namespace) -> int:
    args = GenerateArgs.parse(namespace)
    plan = generate_plan(args)
    builds = local_builds(plan)
    requires = build_requires(
        [plan.project.root / d for d in builds.directories], list(args.build_requires)
    )
    opts = options(args, plan, requires)
    command = regenerate_command(args, plan)
    if args.replace and (args.component is not None or args.stdout):
        raise FatalError("--replace edits .gitlab-ci.yml: not with --stdout or --component")
    if args.component is not None:
        refuse_links_out(args.component, [COMPONENT_FILE])
        target = args.component / COMPONENT_FILE
        write_generated(target, component_text(plan, opts, command), args.force)
    elif args.stdout:
        refuse_links_out(plan.project.root, [TOOL_ENV])
        opts = locked_tool_env(args, plan, opts)
        sys.stdout.write(header.render([build_pipeline(plan, opts)], __version__, command))
    else:
        opts = _write_pipeline(args, plan, opts, requires, command)
    report_bytes(plan)  # every output: what the selection written costs a cell
    return 0


def _write_pipeline(
    args: GenerateArgs, plan: Plan, opts: GenerateOptions, requires: BuildRequires,
    command: str,
) -> GenerateOptions:  # fmt: skip
    refuse_links_out(args.path, [".gitlab-ci.yml", PIPELINE, *_env_files(BUILD_ENV, TOOL_ENV)])
    ci_path = args.path / ".gitlab-ci.yml"
    ci_text = ci_file_with_include(ci_path)  # bad YAML: fail before writing
    found = generate_replace.find(args.path, plan.pythons)
    removed = generate_replace.remove(found) if args.replace and found else {}
    created = [d for d in reversed((args.path / PIPELINE).parents) if not d.exists()]
    _make_parent(args.path / PIPELINE)  # an unwritable target too
    try:
        opts = locked_tool_env(args, plan, opts)
    except FatalError:
        for directory in reversed(created):  # a refusal leaves nothing behind, not even these
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    jobs = build_pipeline(plan, opts)
    text = header.render([jobs], __version__, command)
    if opts.build_env:
        _write_build_env(plan, requires)
    write_generated(args.path / PIPELINE, text, args.force)
    generate_replace.note_orphan_keys(found, [str(name) for name in jobs])
    new_ci = _with_include(removed[ci_path]) if ci_path in removed else ci_text
    if found is not None and removed:
        generate_replace.write_removed(removed, new_ci, ci_path, found.jobs)
    elif not args.replace:
        generate_replace.name_them(found)
    else:
        print("uvci generate: --replace: no job of the pipeline duplicates uvci-test",
              file=sys.stderr)  # fmt: skip
    if new_ci is not None:
        write_atomic(ci_path, new_ci)
    if ci_text is not None:
        print("uvci generate: added the include to .gitlab-ci.yml", file=sys.stderr)
    report(plan, opts, local_builds(plan))
    return opts


def _env_files(*directories: str) -> list[str]:
    return [f"{d}/{name}" for d in directories for name in ("pyproject.toml", "uv.lock")]


def _with_include(doc: roundtrip.YamlDocument) -> str:
    roundtrip.add_local_include(doc, PIPELINE.as_posix())
    return roundtrip.dumps(doc)


def _write_build_env(plan: Plan, requires: BuildRequires) -> None:
    directory = plan.project.root / BUILD_ENV
    text = pyproject_text(
        requires, str(plan.project.requires_python), project_tool_uv(plan.project.root)
    )
    if write_build_env(directory, text):
        print(f"uvci generate: locked the build backend in {directory}", file=sys.stderr)


def locked_tool_env(args: GenerateArgs, plan: Plan, opts: GenerateOptions) -> GenerateOptions:
    """``opts``, after locking a released uvci in TOOL_ENV (--stdout: only a lock already
    there). A release that cannot be locked is refused: the cells run uvci only by hash."""
    if not opts.tool_env:
        return opts
    directory = plan.project.root / TOOL_ENV
    text = toolenv.pyproject_text(opts.uvci_spec, plan.pythons, project_tool_uv(plan.project.root))
    if args.stdout:
        if not toolenv.is_locked(directory, text):
            reason = "--stdout writes nothing, and no lock of it is there yet"
            raise unlockable(opts.uvci_spec, reason, unreleased_reason())
        return opts
    try:
        if write_build_env(directory, text, f"uvci ({opts.uvci_spec})"):
            print(f"uvci generate: locked {opts.uvci_spec} in {directory}", file=sys.stderr)
        return opts
    except FatalError as exc:
        toolenv.remove_unlocked(directory, text)
        raise unlockable(opts.uvci_spec, str(exc), unreleased_reason()) from None


def write_generated(target: Path, text: str, force: bool) -> None:
    """Write ``target`` unless it already says the same, or was edited by hand (no --force)."""
    found = header.existing(target)
    if found.text == text:
        print(f"uvci generate: {target} is up to date", file=sys.stderr)
        return
    if found.text is not None and found.edited and not force:
        sys.stderr.write(header.diff(found.text, text, target))
        raise FatalError(
            f"{target}: edited by hand since uvci generated it (diff above); move the change "
            "into the options or .gitlab-ci.yml, or pass --force to overwrite it"
        )
    _make_parent(target)
    write_atomic(target, text)
    print(f"uvci generate: wrote {target}", file=sys.stderr)


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FatalError(
            f"{target.parent}: cannot write ({exc.strerror}); make it a writable directory"
        ) from None


def ci_file_with_include(path: Path) -> str | None:
    """The new text of .gitlab-ci.yml with the include, or None when it needs no change."""
    include = PIPELINE.as_posix()
    if not path.exists():
        return f"{NEW_CI_FILE}include:\n  - local: {include}\n"
    doc = roundtrip.load_file(path)
    if doc.config is None:  # empty, or only comments: keep them, add the include
        return (
            doc.text.rstrip("\n")
            + ("\n" if doc.text.strip() else "")
            + (f"include:\n  - local: {include}\n")
        )
    return roundtrip.dumps(doc) if roundtrip.add_local_include(doc, include) else None
