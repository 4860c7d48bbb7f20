"""Rules about interpreters, the Python matrix and link mode (UVC010, UVC011, UVC014)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from uvci.doctor import edits
from uvci.doctor import paths as p
from uvci.doctor.context import Context
from uvci.doctor.images import image_python, is_uv_image
from uvci.doctor.model import Finding, Rule, Severity
from uvci.gitlab.read.nodes import Loc
from uvci.gitlab.read.pipeline import Job
from uvci.model.project import RELEASES, allowed, version_key

_DISTRO_TAG = re.compile(r"(bookworm|trixie|bullseye|debian|alpine|jammy|noble|focal)")
_ENV_INSTALLS = frozenset({"sync", "run", "pip install", "pip sync"})


def uvc010(ctx: Context) -> Iterator[Finding]:
    for job in ctx.installing_jobs():
        reason, loc = _downloads_python(ctx, job)
        if reason and not _python_dir_cached(ctx, job):
            managed = _managed_only(ctx, job)[0]
            use = (
                f"drop {managed} (uv then uses the image's Python)"
                if managed and managed in reason
                else "use an image with that Python (ghcr.io/astral-sh/uv:<v>-python3.X-"
                "trixie-slim)"
            )
            yield Finding(
                "UVC010",
                f"{reason}: {_fetch(ctx, job)}",
                loc or image_loc(ctx, job),
                (job.name,),
                advice=f"{use}, or cache UV_PYTHON_INSTALL_DIR inside $CI_PROJECT_DIR",
            )
        if ctx.installs_project(job):
            yield from _outside_requires_python(ctx, job)
            yield from _cell_runs_another_python(ctx, job)


UVC010 = Rule(
    "UVC010",
    "interpreters are downloaded in every job",
    Severity.MINOR,
    "When the requested Python (`--python`, `UV_PYTHON`, `uv python install`) is not the "
    "image's Python, uv downloads a managed interpreter in every job unless "
    "`UV_PYTHON_INSTALL_DIR` is cached. An image Python outside requires-python has the "
    "same effect. The reverse is worse: a matrix cell whose variable says 3.11, on an image "
    "with 3.12, where nothing asks uv for 3.11, silently tests 3.12.",
    "A 20-40 MB download and unpack per job.",
    "Use an image with the matrix's Python (`ghcr.io/astral-sh/uv:<v>-python3.X-...`), "
    "or cache `UV_PYTHON_INSTALL_DIR` inside the project.",
    uvc010,
)


def _cell_runs_another_python(ctx: Context, job: Job) -> Iterator[Finding]:
    cell, variable = ctx.python_of(job)
    have = image_python(job.image)
    if variable is None or not cell or not have or cell == have or ctx.requested_python(job):
        return
    yield Finding(
        "UVC010",
        f"the job is the Python {cell} cell ({variable}) but image `{job.image}` has {have} "
        f"and nothing asks uv for {cell}: it tests {have}",
        image_loc(ctx, job),
        (job.name,),
        advice=f"put ${variable} in the image tag, or pass `--python ${variable}` to uv",
    )


def _fetch(ctx: Context, job: Job, what: str = "it") -> str:
    if ctx.env(job).get("UV_PYTHON_DOWNLOADS", "").lower() in ("never", "manual"):
        return f"uv may not download {what} (UV_PYTHON_DOWNLOADS), so the job fails"
    return f"uv downloads {what} in every run"


def image_loc(ctx: Context, job: Job) -> Loc:
    """Where the job's image is set (the job itself when it has none)."""
    return ctx.pipeline.locate(job.config, "image") if "image" in job.config else job.loc


def _downloads_python(ctx: Context, job: Job) -> tuple[str | None, Loc | None]:
    """Why the job downloads an interpreter, and where that is written (None: the image)."""
    for sub, cmd in ctx.uv_commands(job):
        if sub == "python install":
            return f"`{' '.join(cmd.argv)}` installs a managed Python", cmd.line.loc
    managed, loc = _managed_only(ctx, job)
    if managed:  # whatever the image holds: uv uses only interpreters it downloaded
        have = image_python(job.image)
        ignored = f"the Python of image `{job.image}`" if have else "any Python of the image"
        return f"{managed} makes uv ignore {ignored}", loc
    wanted = ctx.requested_python(job)
    have = image_python(job.image)
    if wanted and have and wanted != have:
        return f"the job asks uv for Python {wanted} but image `{job.image}` has {have}", None
    if wanted and not have and is_uv_image(job.image) and _DISTRO_TAG.search(job.image or ""):
        return f"image `{job.image}` has no Python, and the job asks uv for {wanted}", None
    return None, None


def _managed_only(ctx: Context, job: Job) -> tuple[str | None, Loc | None]:
    """What tells uv to use only its own interpreters (so it downloads one), and where."""
    for name in ("UV_MANAGED_PYTHON", "UV_PYTHON_PREFERENCE"):
        on = (
            ctx.flag(job, name)
            if name == "UV_MANAGED_PYTHON"
            else (ctx.env(job).get(name) == "only-managed")
        )
        if on:
            shown = name if name == "UV_MANAGED_PYTHON" else f"{name}=only-managed"
            return shown, ctx.variable_loc(job, name)
    for cmd in ctx.installs(job):
        if cmd.has("--managed-python") or cmd.option("--python-preference") == "only-managed":
            return f"`{' '.join(cmd.own)}`", cmd.line.loc
    return None, None


def _python_dir_cached(ctx: Context, job: Job) -> bool:
    target = ctx.env(job).get("UV_PYTHON_INSTALL_DIR")
    return bool(target) and any(
        p.covers(path, target or "") for cache in job.caches for path in cache.paths
    )


def _outside_requires_python(ctx: Context, job: Job) -> Iterator[Finding]:
    have = image_python(job.image)
    if ctx.project is None or have is None or allowed(ctx.project.requires_python, have):
        return
    yield Finding(
        "UVC010",
        f"image `{job.image}` has Python {have}, outside requires-python "
        f"`{ctx.project.requires_python}`: {_fetch(ctx, job, 'another interpreter')}",
        image_loc(ctx, job),
        (job.name,),
        advice="use an image whose Python satisfies requires-python",
    )


def uvc011(ctx: Context) -> Iterator[Finding]:
    project = ctx.project
    if project is None:
        return
    tested: dict[str, list[Job]] = {}
    for job in ctx.project_jobs():
        version = ctx.python_of(job)[0]
        if version:
            tested.setdefault(version, []).append(job)
    if not tested:
        return
    yield from _excluded(ctx, tested)
    for version in _untested(ctx, set(tested)):
        yield Finding(
            "UVC011",
            f"Python {version} is supported ({_why(ctx, version)}) but no job tests it",
            _pyproject_loc(ctx, version),
            (),
            advice=f"add {version} to the matrix (`uvci generate` derives it from pyproject)",
        )


UVC011 = Rule(
    "UVC011",
    "the matrix is out of step with requires-python",
    Severity.MINOR,
    "The Python versions the jobs test should be the versions the project supports: its "
    "classifiers (or, without them, the lowest version requires-python allows) and none "
    "that requires-python excludes. Versions past their end of life need no job.",
    "An untested supported version ships bugs; an excluded one fails or wastes a job.",
    "Align the matrix with pyproject.toml; `uvci generate` derives it from there.",
    uvc011,
)


def _excluded(ctx: Context, tested: dict[str, list[Job]]) -> Iterator[Finding]:
    project = ctx.project
    assert project is not None
    for version, jobs in sorted(tested.items(), key=lambda i: version_key(i[0])):
        if not allowed(project.requires_python, version):
            yield Finding(
                "UVC011",
                f"Python {version} is tested, but requires-python "
                f"`{project.requires_python}` excludes it",
                jobs[0].loc,
                tuple(j.name for j in jobs),
                advice=f"drop {version} from the matrix, or widen requires-python",
            )


def _untested(ctx: Context, tested: set[str]) -> list[str]:
    """Supported, maintained versions no job tests (end-of-life ones need no job)."""
    project = ctx.project
    assert project is not None
    today = dt.date.today()
    maintained = [v for v, (born, eol) in RELEASES.items() if born <= today <= eol]
    supported = [v for v in project.classifier_pythons if allowed(project.requires_python, v)]
    if not supported:
        lowest = [v for v in maintained if allowed(project.requires_python, v)][:1]
        supported = lowest if str(project.requires_python) else []
    return [v for v in supported if v not in tested and v in maintained]


def _why(ctx: Context, version: str) -> str:
    assert ctx.project is not None
    if version in ctx.project.classifier_pythons:
        return "a classifier says so"
    return f"the lowest allowed by requires-python `{ctx.project.requires_python}`"


def _pyproject_loc(ctx: Context, version: str) -> Loc:
    assert ctx.project is not None
    path = ctx.project.pyproject
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    needles = (f'Python :: {version}"', "requires-python")
    for needle in needles:
        for number, line in enumerate(lines, 1):
            if needle in line:
                return Loc(path, number)
    return Loc(path, 0)


def uvc014(ctx: Context) -> Iterator[Finding]:
    if "UV_LINK_MODE" in ctx.pipeline.global_variables:
        return
    for job in ctx.installing_jobs():
        if "UV_LINK_MODE" in ctx.env(job):
            continue
        for sub, cmd in ctx.uv_commands(job):
            if sub not in _ENV_INSTALLS or cmd.has("--link-mode"):
                continue
            cache_side = ctx.uv_cache_dir(job).in_project()
            env_side = _env_in_project(ctx, job, sub, cmd.has("--system"))
            if cache_side is None or env_side is None or cache_side == env_side:
                continue
            yield Finding(
                "UVC014",
                f"uv's cache is {_side(cache_side)} but the environment is {_side(env_side)}: "
                "hardlinks fail, and uv warns and falls back to copying on every install",
                cmd.line.loc,
                (job.name,),
                (edits.global_var(ctx, "UV_LINK_MODE", "copy"),),
            )
            break


UVC014 = Rule(
    "UVC014",
    "UV_LINK_MODE is not set across filesystems",
    Severity.MINOR,
    "uv hardlinks files from its cache into the environment. On GitLab the build "
    "directory is a separate mount: when the cache is on it and the environment in the "
    "image (or the other way round), hardlinks fail.",
    "A warning on every install, and a failed link attempt before each copy.",
    "Set `UV_LINK_MODE: copy` (what `--fix` adds), as uv's GitLab guide does.",
    uvc014,
)


def _env_in_project(ctx: Context, job: Job, sub: str, system: bool) -> bool | None:
    env = ctx.env(job)
    if sub.startswith("pip") and (system or ctx.flag(job, "UV_SYSTEM_PYTHON")):
        return False  # UV_SYSTEM_PYTHON is for `uv pip`; sync and run use the project's venv
    target = env.get("UV_PROJECT_ENVIRONMENT") if sub in ("sync", "run") else None
    if sub.startswith("pip"):
        target = env.get("VIRTUAL_ENV")
        if target is None:
            return None
    return True if target is None else p.in_project(target)


def _side(in_project: bool) -> str:
    return "on the build volume ($CI_PROJECT_DIR)" if in_project else "in the container image"


RULES: tuple[Rule, ...] = (
    UVC010,
    UVC011,
    UVC014,
)
