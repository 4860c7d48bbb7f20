"""Build the GitLab pipeline for a plan: one test matrix whose cells keep their own wheelhouse.

:func:`build_pipeline` returns the jobs as a commented ruamel mapping; :mod:`uvci.gitlab.
generated` turns it into the file (header, content hash). docs/pipeline.md explains every line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap

from uvci.gitlab.generate import scripts as sh
from uvci.gitlab.generate.images import image_name
from uvci.gitlab.generate.restored import clean_uvci_dir
from uvci.gitlab.generate.toolenv import TOOL_ENV
from uvci.gitlab.yaml.build import block, comment_before, flow, mapping, quoted, script_line
from uvci.model.buildkind import build_kind
from uvci.model.plan import Layout, Plan, local_packages
from uvci.model.project import version_key

DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")
PIPELINE_FILE = ".gitlab/ci/uvci.yml"
BUILD_ENV = ".gitlab/ci/uvci-build"  # the build backend, locked with hashes (uvci generate)
CACHE_FORMAT = "v3"  # in every cache key: a wheelhouse of another layout is never restored
CachePart = Literal["base", "delta"]
CACHE_PARTS: tuple[CachePart, ...] = ("base", "delta")
DEFAULT_RETAIN = "2x"
SCM_VERSION = "0.0.0+g$CI_COMMIT_SHORT_SHA"
WRITER_JOB = "uvci-test-writer"  # the shared layout's one writer


@dataclass(frozen=True)
class GenerateOptions:
    uv_version: str
    uvci_spec: str
    plan_args: tuple[str, ...]  # the plan's --python/--platform/selection, for `uvci prefetch`
    selection: tuple[str, ...] = ()  # the uv sync selection flags, for `uv export`
    test_command: str = "pytest"
    layout: Layout | None = None  # None: the plan's choice
    torch_backend: str | None = None
    build_stage: str = "build"
    test_stage: str = "test"
    build_once: bool = False  # a build job, its wheel tested in every cell
    retain: str = DEFAULT_RETAIN
    pytest_junit: bool | None = None  # None: when test_command runs pytest
    emit_stages: bool = True  # False for a component: the including pipeline owns stages
    image_variant: str = "trixie-slim"  # alpine for a musl --platform
    platform_slug: str = "x86_64"
    build_env: bool = True  # the project has a build backend to lock (BUILD_ENV)
    scm_version: bool = False  # versioned from git: the images have no git
    tool_env: bool = False  # uvci locked with hashes in TOOL_ENV
    tool_url: bool = False  # else UVCI_SPEC: a uvci wheel URL with #sha256= (else the checkout)
    system_packages: str = ""  # shell words: apt/apk packages the cells install first
    coverage: str | None = None  # the package pytest-cov measures (a coverage report)


@dataclass(frozen=True)
class LocalBuilds:
    """The project's own packages (directories relative to the root) and how each builds."""

    directories: tuple[str, ...]
    reasons: tuple[str, ...]


def local_builds(plan: Plan) -> LocalBuilds:
    seen = {p.name: p for python in plan.pythons for p in local_packages(plan, python)}
    directories: list[str] = []
    reasons: list[str] = []
    for package in seen.values():
        directories.append(
            os.path.relpath(package.directory.resolve(), plan.project.root.resolve())
        )
        reasons.append(f"{package.name}: {build_kind(package.directory).reason}")
    return LocalBuilds(tuple(directories), tuple(reasons))


@dataclass(frozen=True)
class Shape:
    """What the jobs are made of: the Pythons, the project's own packages, the layout.

    ``matrix_input``: the matrix's PYTHON list as a CI/CD input (``$[[ inputs.pythons ]]``, the
    catalog template) instead of ``pythons``, which then only names the cells' ``$PYTHON``.
    """

    pythons: tuple[str, ...]
    builds: LocalBuilds
    layout: Layout
    matrix_input: str | None = None


def shape_of(plan: Plan, opts: GenerateOptions) -> Shape:
    return Shape(plan.pythons, local_builds(plan), opts.layout or plan.layout)


def build_pipeline(plan: Plan, opts: GenerateOptions) -> CommentedMap:
    return build_jobs(shape_of(plan, opts), opts)


def build_jobs(shape: Shape, opts: GenerateOptions) -> CommentedMap:
    builds = shape.builds
    once = opts.build_once and bool(builds.directories)
    doc = CommentedMap()
    stages = [opts.build_stage] if once else []
    stages.append(opts.test_stage)
    if opts.emit_stages and any(s not in DEFAULT_STAGES for s in stages):
        doc["stages"] = flow(stages)
        comment_before(doc, "stages", "Custom stage names: a stages: list in .gitlab-ci.yml "
                       "replaces this one, so list them there too.", 0)  # fmt: skip
    doc[".uvci"] = base_template(opts)
    if once:
        doc["uvci-build"] = build_job(shape, opts, builds)
        comment_before(doc, "uvci-build", "\n--build-once: one wheel for every cell", 0)
    readers: tuple[str, ...] = shape.pythons
    if shape.layout == "shared":
        writer = newest(shape)
        readers = tuple(p for p in shape.pythons if p != writer)
        doc[WRITER_JOB] = test_job(shape, opts, CellJob(builds, once, (writer,), writer=True))
        comment_before(doc, WRITER_JOB, _test_doc(shape), 0)
    if readers:
        doc["uvci-test"] = test_job(shape, opts, CellJob(builds, once, readers))
        if WRITER_JOB not in doc:
            comment_before(doc, "uvci-test", _test_doc(shape), 0)
    return doc


@dataclass(frozen=True)
class CellJob:
    """What a test job's cells build and which Pythons they run; ``writer``: the one job of the
    shared layout that fills the wheelhouse for every cell and uploads it."""

    builds: LocalBuilds
    once: bool
    pythons: tuple[str, ...]
    writer: bool = False


def _test_doc(shape: Shape) -> str:
    if shape.layout == "shared":
        owner = f"one wheelhouse for every cell, written only by {WRITER_JOB} ({newest(shape)})"
    else:
        owner = "each cell owns its wheelhouse and is its only writer"
    return (
        f"\nOne job per Python; {owner}.\n"
        "Installs offline from the wheelhouse, uv checking every file against the hashes of\n"
        "the checked-out uv.lock; fetches only what is missing; the cache is uploaded only\n"
        "when this job changed it."
    )


# every job's variables (the .uvci template), with the comment the file carries
BASE_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("UV_PYTHON_DOWNLOADS", "never", "the image's Python, never a downloaded one"),
    ("UV_LINK_MODE", "hardlink",
     "uv's cache and the venv share a mount beside the checkout (never cached: the wheels are)"),
    ("UV_NO_PROGRESS", "1", "plain logs"),
    ("CACHE_COMPRESSION_FORMAT", "zip",
     "wheels are compressed already: stored zip entries cost no CPU (docs/benchmarks.md)"),
    ("CACHE_COMPRESSION_LEVEL", "fastest",
     "with fastzip: entries stored, archived and extracted in parallel (runner >= 13.9)"),
    ("FF_USE_FASTZIP", "true", "the runner's parallel zip archiver (off by default before 19.4)"),
    ("FF_USE_PARALLEL_CACHE_TRANSFER", "true",
     "runner >= 19.0: ranged parallel download of a cache over 16 MiB; older ones ignore it"),
)  # fmt: skip


def base_template(opts: GenerateOptions) -> CommentedMap:
    items: list[tuple[str, Any, str]] = [
        (name, quoted(value) if value in ("1", "true") else value, why)
        for name, value, why in BASE_VARIABLES
    ]
    if opts.torch_backend:
        items.append(("UV_TORCH_BACKEND", opts.torch_backend, "for uv commands that resolve"))
    if opts.scm_version:
        why = "versioned from git, and the images have no git: the version, given"
        items.append(("SETUPTOOLS_SCM_PRETEND_VERSION", SCM_VERSION, why))
    inherit = mapping(("default", flow(INHERITED_DEFAULTS)))
    doc = mapping(("variables", mapping(*items)), ("inherit", inherit))
    comment_before(doc, "inherit", "The including pipeline's default: runner choice, limits, "
                   "services; not its before_script, which\nwould run in this job's shell "
                   "(set one on uvci-test itself: docs/pipeline.md).", 2)  # fmt: skip
    return doc


# the `default:` keys a uvci job takes from the including pipeline (runner choice, limits,
# services, after_script); image, cache and artifacts are its own, before_script is left out
INHERITED_DEFAULTS = ("after_script", "interruptible", "retry", "services", "tags", "timeout")


def image(opts: GenerateOptions, python: str) -> str:
    return image_name(opts.uv_version, python, opts.image_variant)


def newest(shape: Shape) -> str:
    return max(shape.pythons, key=version_key)


def matrix(shape: Shape, pythons: tuple[str, ...]) -> CommentedMap:
    values: Any = shape.matrix_input or flow(quoted(p) for p in pythons)
    return mapping(("matrix", block([mapping(("PYTHON", values))])))


def cache_key(
    shape: Shape, opts: GenerateOptions, python: str = "$PYTHON", part: CachePart = "base"
) -> str:
    cell = "all" if shape.layout == "shared" else f"py{python}"
    return f"uvci-{CACHE_FORMAT}-{part}-{cell}-{opts.platform_slug}"


def cache_paths(shape: Shape, part: CachePart = "base") -> list[str]:
    if part == "base":
        return [sh.WHEELHOUSE]
    return [sh.DELTA, sh.FILLED_FOR] if shape.layout == "shared" else [sh.DELTA]


def wheel_caches(shape: Shape, opts: GenerateOptions, policy: str, why: str) -> list[Any]:
    """The base and the delta, each its own key: a lock change uploads the delta alone."""
    entries = []
    for part in CACHE_PARTS:
        entry = mapping(
            ("key", cache_key(shape, opts, part=part)),
            ("paths", flow(cache_paths(shape, part))),
            ("policy", policy, why),
        )
        if policy == "pull-push":  # a fill survives failing tests (the job decided before them)
            entry["when"] = "always"
            entry.yaml_add_eol_comment("files fetched before a test failed are kept too", "when")
        entries.append(entry)
    return entries


def build_job(shape: Shape, opts: GenerateOptions, builds: LocalBuilds) -> CommentedMap:
    python = newest(shape)
    caches = [
        mapping(
            (
                "key",
                cache_key(shape, opts, python, part),
                f"the {python} cell's: it holds the backend",
            ),
            ("paths", flow(cache_paths(shape, part))),
            ("policy", "pull"),
        )
        for part in CACHE_PARTS
    ]
    script = [script_line(_clean_step(shape, keep_dist=False)), script_line(sh.work_dirs())]
    script.append(script_line(sh.export_requirements(opts.selection, _build_env(opts))))
    script.append(script_line(sh.build_once(builds.directories)))
    return mapping(
        ("extends", ".uvci"),
        ("stage", opts.build_stage),
        ("image", image(opts, python)),
        ("variables", mapping(("UV_PYTHON", quoted(python)))),
        ("cache", block(caches)),
        ("script", block(script)),
        ("artifacts", mapping(("paths", flow([f"{sh.DIST}/"])), ("expire_in", "1 day"))),
    )


def _build_env(opts: GenerateOptions) -> str | None:
    return BUILD_ENV if opts.build_env else None


def test_job(shape: Shape, opts: GenerateOptions, cell: CellJob) -> CommentedMap:
    job = mapping(("extends", ".uvci"), ("stage", opts.test_stage))
    if cell.once:
        job["needs"] = block([mapping(("job", "uvci-build"), ("artifacts", True))])
    job["image"] = image(opts, "$PYTHON")
    variables: list[tuple[str, Any] | tuple[str, Any, str]] = []
    if cell.writer:
        variables.append(("PYTHON", quoted(cell.pythons[0])))
    else:
        job["parallel"] = matrix(shape, cell.pythons)
    variables.append(("UV_PYTHON", "$PYTHON"))
    if not opts.tool_env:
        why = "pinned by hash: the uvci that fetches what the wheelhouse lacks"
        if not opts.tool_url:
            why = "uvci's own checkout: the uvci that fetches what the wheelhouse lacks"
        variables.append(("UVCI_SPEC", opts.uvci_spec, why))
    job["variables"] = mapping(*variables)
    shared = shape.layout == "shared"
    if shared and not cell.writer:
        policy, why = "pull", f"only {WRITER_JOB} uploads the shared wheelhouse"
    else:
        policy, why = "pull-push", "the runner uploads only what the job left in place"
    job["cache"] = block(wheel_caches(shape, opts, policy, why))
    job["script"] = block(_test_script(shape, opts, cell, policy == "pull-push"))
    if opts.coverage is not None:
        job["coverage"] = sh.COVERAGE_REGEX
        job.yaml_add_eol_comment("pytest-cov's TOTAL line", "coverage")
    job["artifacts"] = _junit_artifacts(opts.coverage is not None)
    return job


def _preamble(opts: GenerateOptions, steps: list[str]) -> list[Any]:
    """First, whatever a user's before_script did: back to the checkout; then ``steps`` (what
    a restored cache planted under .uvci removed, the work dirs made); the extra system
    packages (--system-packages) before anything needs them."""
    lines: list[Any] = ['cd "$CI_PROJECT_DIR"', *(script_line(step) for step in steps)]
    if opts.system_packages:
        lines.append(script_line(sh.system_packages(opts.system_packages, opts.image_variant)))
    return lines


def _test_script(shape: Shape, opts: GenerateOptions, cell: CellJob, uploads: bool) -> list[Any]:
    lines = _preamble(opts, [_clean_step(shape, keep_dist=cell.once), sh.work_dirs()])
    lines.append(script_line(sh.export_requirements(opts.selection, _build_env(opts))))
    if opts.tool_env:
        lines.append(script_line(sh.tool_function(TOOL_ENV)))
    elif opts.tool_url:
        lines.append(script_line(sh.url_tool_function()))
    lines.append(script_line(sh.fill_function(_fill(opts, [] if cell.writer else ["$PYTHON"]))))
    if cell.writer:
        lines.append(script_line(sh.writer_fill()))
    lines += [
        sh.sh_join(["uv", "venv", "--python", "$PYTHON", sh.VENV]),
        script_line(sh.install_function(() if cell.once else cell.builds.directories, cell.once)),
        script_line(sh.install_or_fill()),
    ]
    if uploads:  # decided before the tests run: their result cannot change it
        caches = [cache_paths(shape, part) for part in CACHE_PARTS]
        lines.append(script_line(sh.keep_if_changed(caches)))
    if isinstance(opts.coverage, sh.Raw):
        lines.append(script_line(sh.coverage_switch(opts.coverage)))
    lines += [sh.activate(), script_line(sh.run_tests(_test_command(opts), opts.pytest_junit))]
    return lines


def _clean_step(shape: Shape, keep_dist: bool) -> str:
    """Remove what a restored cache planted under .uvci; keep exactly what uvci's own cache
    paths (``sh.RESTORED_PATHS``: the base and delta wheelhouses, the shared writer's record)
    and the build job's artifact (``--build-once``) put there (see :mod:`.restored`)."""
    restored = [p for part in CACHE_PARTS for p in cache_paths(shape, part)]
    assert set(restored) <= set(sh.RESTORED_PATHS), restored
    dirs = [*sh.WHEELHOUSES, *([sh.DIST] if keep_dist else [])]
    files = [p for p in restored if p not in sh.WHEELHOUSES]
    return clean_uvci_dir(dirs, files, wheelhouses=len(sh.WHEELHOUSES))


def _test_command(opts: GenerateOptions) -> str:
    if opts.coverage is None:
        return opts.test_command
    return f"{opts.test_command} {sh.coverage_args(opts.coverage)}"


def _fill(opts: GenerateOptions, cells: list[str]) -> str:
    """``uvci prefetch`` for ``cells`` (none: every cell)."""
    extra = ["--retain", opts.retain, "--no-build", "--frozen"]  # uv export --locked checked
    if opts.build_env:
        extra += ["--build-env", BUILD_ENV]
    tool_env = TOOL_ENV if opts.tool_env else None
    return sh.prefetch_command(opts.plan_args, cells, extra, tool_env, opts.tool_url)


def _junit_artifacts(coverage: bool) -> CommentedMap:
    reports = mapping(("junit", sh.JUNIT))
    if coverage:
        report = mapping(("coverage_format", "cobertura"), ("path", sh.COVERAGE_XML))
        reports["coverage_report"] = report
    return mapping(("when", "always"), ("reports", reports), ("expire_in", "1 week"))
