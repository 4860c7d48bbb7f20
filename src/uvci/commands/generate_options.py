"""What `uvci generate` makes of its arguments: the plan, the checked options, the command that
regenerates the file. Every bad value is one line (:class:`~uvci.errors.FatalError`)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from uvci import __version__
from uvci.commands.options import PlanArgs, plan_for, refuse_control_characters
from uvci.errors import FatalError
from uvci.gitlab.generate.buildenv import BuildRequires
from uvci.gitlab.generate.images import CHECKED, GLIBC, check_images, published
from uvci.gitlab.generate.pipeline import DEFAULT_RETAIN, GenerateOptions
from uvci.gitlab.generate.uvcispec import EXAMPLE_URL, spec_kind
from uvci.model.plan import Layout, Plan
from uvci.model.platforms import DEFAULT_PLATFORM, resolve_target
from uvci.model.testcommand import is_pytest
from uvci.util.uvproc import uv_version
from uvci.wheelhouse.retention import parse_retain


@dataclass(frozen=True)
class GenerateArgs:
    """`uvci generate`'s arguments, read once; every value is on one line (it may end up in
    the YAML)."""

    request: PlanArgs
    test_command: str
    layout: Layout | None
    build_once: bool
    retain: str
    build_requires: tuple[str, ...]
    torch_backend: str | None
    build_stage: str
    test_stage: str
    uvci_spec: str | None
    stdout: bool
    component: Path | None
    force: bool
    replace: bool = False
    system_packages: tuple[str, ...] = ()
    coverage: str | None = None

    @classmethod
    def parse(cls, args: argparse.Namespace) -> GenerateArgs:
        refuse_control_characters(args)  # one check, first
        return cls(
            request=PlanArgs.parse(args),
            test_command=args.test_command,
            layout=args.layout,
            build_once=args.build_once,
            retain=args.retain,
            build_requires=tuple(args.build_requires),
            torch_backend=args.torch_backend,
            build_stage=args.build_stage,
            test_stage=args.test_stage,
            uvci_spec=args.uvci_spec,
            stdout=args.stdout,
            component=args.component,
            force=args.force,
            replace=getattr(args, "replace", False),
            system_packages=_packages(getattr(args, "system_packages", [])),
            coverage=_coverage_arg(args),
        )

    @property
    def path(self) -> Path:
        return self.request.path


def generate_plan(args: GenerateArgs) -> Plan:
    """The plan; without --python, of the maintained CPythons that uv publishes an image for."""
    plan = plan_for(args.request, need_fresh_lock=True)
    variant = _variant(plan)
    keep = published(plan.pythons, variant)
    if args.request.python or keep == plan.pythons or not keep:
        return plan
    left = ", ".join(p for p in plan.pythons if p not in keep)
    print(
        f"uvci generate: note: Python {left} left out of the default matrix: uv publishes no "
        f"{variant} image for it yet (checked {CHECKED}); pass --python to choose",
        file=sys.stderr,
    )
    return without_pythons(plan, keep)


def without_pythons(plan: Plan, keep: Sequence[str]) -> Plan:
    """``plan`` as planned with ``--python`` ``keep`` (a subset of its Pythons): each cell is
    planned on its own, so its cells are kept, not planned again; an explicit matrix has no
    notes about the default one."""
    cells = tuple(cell for cell in plan.cells if cell.python in keep)
    return dataclasses.replace(plan, cells=cells, notes=())


def _variant(plan: Plan) -> str:
    return "alpine" if "musl" in plan.platform else "trixie-slim"


def plan_args(plan: Plan) -> tuple[str, ...]:
    """The plan options `uvci prefetch` must get to plan the same matrix in CI."""
    argv = ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    return (*argv, *plan.selection.uv_args())


def options(args: GenerateArgs, plan: Plan, requires: BuildRequires) -> GenerateOptions:
    _check_options(args, plan)
    variant = _variant(plan)
    uv = image_uv_version(plan)
    check_images(uv, plan.pythons, variant)
    spec = args.uvci_spec or f"uvci=={__version__}"
    kind = spec_kind(spec, plan.project.root)  # pinned by hash, or refused
    if args.component is not None and kind != "url":
        raise FatalError(
            f"--uvci-spec {spec}: a component's cells install uvci from its uvci-spec input, "
            f"which has no lock beside it: give --uvci-spec {EXAMPLE_URL}, a wheel you host "
            "with its hash (docs/release.md)"
        )
    return GenerateOptions(
        uv_version=uv,
        uvci_spec=spec,
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
        tool_env=kind == "release",
        tool_url=kind == "url",
        system_packages=" ".join(args.system_packages),
        coverage=coverage_package(args, plan),
    )


def _check_options(args: GenerateArgs, plan: Plan) -> None:
    given = (("--test-command", args.test_command), ("--build-stage", args.build_stage),
             ("--test-stage", args.test_stage))  # fmt: skip
    for option, value in given:
        if not value.strip():
            raise FatalError(f"{option}: empty; give it a value or leave the option out")
    parse_retain(args.retain)  # a clear line when it is neither 2x nor 500MB
    target = resolve_target(plan.platform)
    glibc = re.search(r"manylinux_2_(\d+)_", target.platform_tags[0])
    if target.sys_platform != "linux" or (glibc and int(glibc.group(1)) > GLIBC[1]):
        raise FatalError(
            f"--platform {plan.platform}: the generated jobs run in uv's Linux images (glibc "
            f"2.{GLIBC[1]}), which cannot install its wheels; use {DEFAULT_PLATFORM}, "
            "an older manylinux, or x86_64-unknown-linux-musl for alpine"
        )
    _check_test_command(args.test_command, plan)
    if args.coverage is not None:
        _check_coverage(args.test_command, plan)


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


def regenerate_command(args: GenerateArgs, plan: Plan) -> str:
    argv = ["uvci", "generate"]  # with the uvci you trust: never `uvx --from` a bare name
    if args.request.python:
        argv += ["--python", ",".join(plan.pythons)]
    if plan.platform != DEFAULT_PLATFORM:
        argv += ["--platform", plan.platform]
    argv += plan.selection.uv_args()
    flags: tuple[tuple[str, object, object], ...] = (
        ("--test-command", args.test_command, "pytest"), ("--layout", args.layout, None),
        ("--build-once", args.build_once, False), ("--retain", args.retain, DEFAULT_RETAIN),
        ("--torch-backend", args.torch_backend, None), ("--build-stage", args.build_stage, "build"),
        ("--test-stage", args.test_stage, "test"), ("--uvci-spec", args.uvci_spec, None),
        ("--component", args.component, None),
    )  # fmt: skip
    for flag, value, default in flags:
        if value is True:
            argv.append(flag)
        elif value != default:
            argv += [flag, str(value)]
    for requirement in args.build_requires:
        argv += ["--build-requires", requirement]
    if args.system_packages:
        argv += ["--system-packages", ",".join(args.system_packages)]
    if args.coverage is not None:
        argv.append("--coverage")
    if args.coverage:
        argv += ["--coverage-package", args.coverage]
    return " ".join(shlex.quote(a) for a in argv)


_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+._-]*(=[A-Za-z0-9+.:~_-]+)?")


def _packages(values: Sequence[str]) -> tuple[str, ...]:
    """``--system-packages`` values (comma- or space-separated), each a Debian/Alpine name."""
    names = [n for value in values for n in re.split(r"[,\s]+", value) if n]
    for name in names:
        if not _PACKAGE.fullmatch(name):
            raise FatalError(
                f"--system-packages {name!r}: not a package name apt or apk accepts; write "
                "lower-case names (libpq-dev, less, git), comma-separated"
            )
    return tuple(dict.fromkeys(names))


def _check_coverage(command: str, plan: Plan) -> None:
    """A coverage report needs pytest with pytest-cov from the cell's own environment."""
    if not is_pytest(command):
        raise FatalError(
            f"--coverage: the test command {command!r} is not pytest; the report comes from "
            "pytest-cov (drop --coverage, or run pytest)"
        )
    missing = [c.python for c in plan.cells if all(p.name != "pytest-cov" for p in c.packages)]
    if missing:
        raise FatalError(
            f"--coverage: pytest-cov is not in uv.lock for the selected groups (cell "
            f"{missing[0]}); add it (`uv add --dev pytest-cov`) or select its group (--group)"
        )


def coverage_package(args: GenerateArgs, plan: Plan) -> str | None:
    """What pytest-cov measures: --coverage PACKAGE, else the project's import name."""
    if args.coverage is None:
        return None
    if args.coverage:
        if not re.fullmatch(r"[A-Za-z_][\w.]*", args.coverage):
            raise FatalError(
                f"--coverage {args.coverage!r}: not an importable package name; write the "
                "name tests import (e.g. my_package)"
            )
        return args.coverage
    name = plan.project.name
    if name is None:
        raise FatalError(
            "--coverage: a virtual workspace root has no package to measure; write "
            "--coverage PACKAGE (the name tests import)"
        )
    return name.replace("-", "_")


def _coverage_arg(args: argparse.Namespace) -> str | None:
    """None: no report; "": the project's import name; else --coverage-package."""
    package = getattr(args, "coverage_package", None)
    if package is not None and not getattr(args, "coverage", False):
        raise FatalError("--coverage-package: pass --coverage too (it names what it measures)")
    return (package or "") if getattr(args, "coverage", False) else None
