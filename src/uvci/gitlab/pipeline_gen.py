"""Build the GitLab pipeline for a plan: prefetch job, build job (pure projects), test matrix.

:func:`build_pipeline` returns the jobs as a commented ruamel mapping; :mod:`uvci.gitlab.
generated` turns it into the file (header, content hash). docs/pipeline.md explains every line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from uvci.buildkind import build_kind
from uvci.gitlab import pipeline_scripts as sh
from uvci.gitlab.yamlbuild import block, comment_before, flow, mapping, quoted, script_line
from uvci.plan import Plan
from uvci.project import version_key
from uvci.runner.builds import local_packages

DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")
IMAGE = "ghcr.io/astral-sh/uv:{uv}-python{python}-{variant}"
UV_CACHE = ".uvci/uv-cache"
PIPELINE_FILE = ".gitlab/ci/uvci.yml"
# what uvci-prefetch reads: when none of them changed it cannot change the wheelhouse
PREFETCH_INPUTS = ("uv.lock", "pyproject.toml")


@dataclass(frozen=True)
class GenerateOptions:
    uv_version: str
    uvci_spec: str
    plan_args: tuple[str, ...]  # the plan's --python/--platform/selection, for `uvci prefetch`
    test_command: str = "pytest"
    layout: str | None = None  # shared | per-cell; None: the plan's choice
    torch_backend: str | None = None
    prepare_stage: str = "build"
    test_stage: str = "test"
    project_wheel: str = "auto"  # auto | once | per-cell
    pytest_junit: bool | None = None  # None: when test_command runs pytest
    emit_stages: bool = True  # False for a component: the including pipeline owns stages
    image_variant: str = "bookworm-slim"  # alpine for a musl --platform
    pipeline_file: str = PIPELINE_FILE  # where the jobs are defined (a component: .gitlab-ci.yml)


@dataclass(frozen=True)
class LocalBuilds:
    """The project's own packages: built once in the build job, or in every cell."""

    once: tuple[str, ...]  # directories relative to the project root
    per_cell: tuple[str, ...]
    reasons: tuple[str, ...]


def local_builds(plan: Plan, project_wheel: str) -> LocalBuilds:
    seen = {p.name: p for python in plan.pythons for p in local_packages(plan, python)}
    once: list[str] = []
    per_cell: list[str] = []
    reasons: list[str] = []
    for package in seen.values():
        where = os.path.relpath(package.directory.resolve(), plan.project.root.resolve())
        kind = build_kind(package.directory)
        pure = kind.pure if project_wheel == "auto" else project_wheel == "once"
        (once if pure else per_cell).append(where)
        how = "wheel built once in uvci-build" if pure else "built in every uvci-test cell"
        why = kind.reason if project_wheel == "auto" else f"--project-wheel {project_wheel}"
        reasons.append(f"{package.name}: {how} ({why})")
    return LocalBuilds(tuple(once), tuple(per_cell), tuple(reasons))


def build_pipeline(plan: Plan, opts: GenerateOptions) -> CommentedMap:
    layout = opts.layout or plan.layout
    builds = local_builds(plan, opts.project_wheel)
    doc = CommentedMap()
    stages = [s for s in (opts.prepare_stage, opts.test_stage) if s not in DEFAULT_STAGES]
    if stages and opts.emit_stages:
        doc["stages"] = flow(dict.fromkeys([opts.prepare_stage, opts.test_stage]))
        comment_before(doc, "stages", "Custom stage names: a stages: list in .gitlab-ci.yml "
                       "replaces this one, so list them there too.", 0)  # fmt: skip
    doc[".uvci"] = base_template(opts)
    doc["uvci-prefetch"] = prefetch_job(plan, opts, layout)
    comment_before(doc, "uvci-prefetch", _prefetch_doc(layout), 0)
    if builds.once:
        doc["uvci-build"] = build_job(plan, opts, builds)
        comment_before(doc, "uvci-build", "\n".join(["", *builds.reasons]), 0)
    doc["uvci-test"] = test_job(plan, opts, layout, builds)
    comment_before(doc, "uvci-test", "\nOne job per Python; installs offline, runs the tests.", 0)
    return doc


def _prefetch_doc(layout: str) -> str:
    what = "one wheelhouse shared by every cell" if layout == "shared" else "one per Python"
    return (
        f"\nFetches each locked file once into the wheelhouse cache ({what}).\n"
        "Runs only when it can change the wheelhouse: what it reads changed, or a schedule\n"
        "(schedule a weekly pipeline: it refills an evicted or damaged cache)."
    )


# every job's variables (the .uvci template), with the comment the file carries
BASE_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("UV_PYTHON_DOWNLOADS", "never", "the image's Python, never a downloaded one"),
    ("UV_LINK_MODE", "hardlink",
     f"uv's cache ({UV_CACHE}) and the venv share the build dir's mount: link, don't copy"),
    ("UV_NO_PROGRESS", "1", "plain logs"),
    ("CACHE_COMPRESSION_FORMAT", "tarzstd",
     "wheels are zip files already: tar+zstd packs them faster than zip"),
    ("CACHE_COMPRESSION_LEVEL", "fastest",
     "wheels barely compress further (1-2 %): spend no CPU trying"),
    ("FF_USE_FASTZIP", "true", "the runner's faster archiver; compression levels need it"),
)  # fmt: skip


def base_template(opts: GenerateOptions) -> CommentedMap:
    items: list[tuple[str, Any, str]] = [
        (name, quoted(value) if value in ("1", "true") else value, why)
        for name, value, why in BASE_VARIABLES
    ]
    if opts.torch_backend:
        items.append(("UV_TORCH_BACKEND", opts.torch_backend, "for uv commands that resolve"))
    return mapping(("variables", mapping(*items)))


def image(opts: GenerateOptions, python: str) -> str:
    return IMAGE.format(uv=opts.uv_version, python=python, variant=opts.image_variant)


def newest(plan: Plan) -> str:
    return max(plan.pythons, key=version_key)


def matrix(plan: Plan) -> CommentedMap:
    return mapping(("matrix", block([mapping(("PYTHON", flow(quoted(p) for p in plan.pythons)))])))


def _wheel_prefix(layout: str) -> str:
    return "uvci-wheels" if layout == "shared" else "uvci-wheels-py$PYTHON"


def wheel_cache(layout: str, policy: str, fallback: bool) -> CommentedMap:
    prefix = _wheel_prefix(layout)
    key = mapping(("files", flow(["uv.lock"])), ("prefix", prefix))
    entry = mapping(("key", key), ("paths", flow([sh.WHEELHOUSE, sh.LOCK_STAMP])))
    if fallback:
        entry["fallback_keys"] = flow([f"{prefix}-latest"])
        entry.yaml_add_eol_comment("the previous lock's wheelhouse, see docs", "fallback_keys")
    entry["policy"] = policy
    return entry


def latest_cache(layout: str) -> CommentedMap:
    return mapping(
        (
            "key",
            f"{_wheel_prefix(layout)}-latest",
            "also saved under a stable key: the next lock's fallback",
        ),
        ("paths", flow([sh.WHEELHOUSE, sh.LOCK_STAMP])),
        ("policy", "push"),
    )


def tool_cache(opts: GenerateOptions, python: str) -> CommentedMap:
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", opts.uvci_spec).strip("-")
    return mapping(
        ("key", f"uvci-tool-{slug}-py{python}", "uv's cache holding uvci itself"),
        ("paths", flow([UV_CACHE])),
        ("policy", "pull-push"),
    )


def prefetch_job(plan: Plan, opts: GenerateOptions, layout: str) -> CommentedMap:
    shared = layout == "shared"
    python = quoted(newest(plan)) if shared else "$PYTHON"
    job = mapping(
        ("extends", ".uvci"),
        ("stage", opts.prepare_stage),
        ("rules", prefetch_rules(opts)),
        ("image", image(opts, newest(plan) if shared else "$PYTHON")),
    )
    if not shared:
        job["parallel"] = matrix(plan)
    job["variables"] = _prefetch_variables(plan, opts, python if shared else None)
    # push-only entry last: gitlab-ci-local stops restoring at the first one (GitLab does not)
    job["cache"] = block(
        [wheel_cache(layout, "pull-push", True), tool_cache(opts, python), latest_cache(layout)]
    )
    cells = () if shared else ("$PYTHON",)
    job["script"] = block(
        [
            script_line(sh.uvx_probe()),
            sh.prefetch_command(opts.plan_args, cells),
            script_line(sh.skip_unchanged_caches()),
        ]
    )
    return job


def prefetch_rules(opts: GenerateOptions) -> CommentedSeq:
    """Run on a schedule or when an input changed; no rule matches: the job is not created.

    ``changes`` compares with the previous push (branch pipelines) or the target branch (merge
    request pipelines) and is true where GitLab cannot compare (new branch, web, API, tags).
    """
    schedule = (
        "if",
        '$CI_PIPELINE_SOURCE == "schedule"',
        "refill an evicted cache: schedule one weekly",
    )
    inputs = flow([*PREFETCH_INPUTS, opts.pipeline_file])
    changed = ("changes", inputs, "else left out: the cells start at once")
    return block([mapping(schedule), mapping(changed)])


def _prefetch_variables(plan: Plan, opts: GenerateOptions, python: str | None) -> CommentedMap:
    """The prefetch job's variables; ``python``: the one Python of a shared-layout job."""
    variables: list[tuple[str, Any] | tuple[str, Any, str]] = []
    if python is not None:
        variables.append(("PYTHON", python))
    variables += [
        ("UV_PYTHON", "$PYTHON"),
        ("UV_CACHE_DIR", UV_CACHE),
        ("UVCI_SPEC", opts.uvci_spec, "the uvci that fills the wheelhouse (--uvci-spec)"),
    ]
    if python is not None and any(cell.build_from_source for cell in plan.cells):
        why = "sdist-only packages: build the other cells' wheels once, here"
        variables.append(("UV_PYTHON_DOWNLOADS", "automatic", why))
    return mapping(*variables)


def build_job(plan: Plan, opts: GenerateOptions, builds: LocalBuilds) -> CommentedMap:
    python = newest(plan)
    cache = mapping(
        ("key", f"uvci-build-py{python}", "uv's cache holding the build backend"),
        ("paths", flow([UV_CACHE])),
        ("policy", "pull-push"),
    )
    script = [sh.build_wheels(builds.once), sh.skip_unchanged_uv_cache(sh.BUILD_CACHE_NEW)]
    return mapping(
        ("extends", ".uvci"),
        ("stage", opts.prepare_stage),
        ("image", image(opts, python)),
        ("variables", mapping(("UV_PYTHON", quoted(python)), ("UV_CACHE_DIR", UV_CACHE))),
        ("cache", block([cache])),
        ("script", block(script_line(line) for line in script)),
        ("artifacts", mapping(("paths", flow([f"{sh.DIST}/"])), ("expire_in", "1 day"))),
    )


def test_job(plan: Plan, opts: GenerateOptions, layout: str, builds: LocalBuilds) -> CommentedMap:
    needs = [prefetch_need()]
    if builds.once:
        needs.append(mapping(("job", "uvci-build"), ("artifacts", True)))
    job = mapping(
        ("extends", ".uvci"),
        ("stage", opts.test_stage),
        ("needs", block(needs)),
        ("image", image(opts, "$PYTHON")),
        ("parallel", matrix(plan)),
        ("variables", _test_variables(opts)),
        ("cache", block([wheel_cache(layout, "pull", True)])),
        ("script", block(_test_script(opts, builds))),
        ("artifacts", _junit_artifacts()),
    )
    job["cache"][0].yaml_add_eol_comment("pull only: a cell never uploads", "policy")
    return job


def _test_variables(opts: GenerateOptions) -> CommentedMap:
    why = "beside .uvci/venv, so installs hard-link (never saved: only the wheels are)"
    return mapping(
        ("UV_PYTHON", "$PYTHON"), ("UV_CACHE_DIR", UV_CACHE, why), ("UVCI_SPEC", opts.uvci_spec)
    )


def prefetch_need() -> CommentedMap:
    """The cells wait for uvci-prefetch when it runs; it is optional: absent, they start."""
    return mapping(
        ("job", "uvci-prefetch"),
        ("artifacts", False),
        ("optional", True, "uvci-prefetch runs only when it can change the wheelhouse"),
    )


def _test_script(opts: GenerateOptions, builds: LocalBuilds) -> list[Any]:
    lines: list[Any] = [
        script_line(sh.wheelhouse_guard(opts.plan_args)),
        sh.sh_join(["uv", "venv", "--python", "$PYTHON", sh.VENV]),
        script_line(sh.offline_install(opts.plan_args)),
    ]
    if builds.once:
        lines.append(sh.install_built_wheels())
    if builds.per_cell:
        lines.append(sh.install_from_source(builds.per_cell))
    lines += [sh.activate(), script_line(sh.run_tests(opts.test_command, opts.pytest_junit))]
    return lines


def _junit_artifacts() -> CommentedMap:
    return mapping(
        ("when", "always"),
        ("reports", mapping(("junit", sh.JUNIT))),
        ("expire_in", "1 week"),
    )
