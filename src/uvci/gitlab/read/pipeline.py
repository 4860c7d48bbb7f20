"""The pipeline as GitLab runs it: jobs with ``extends:``, ``default:``, variables, matrix.

``read_pipeline(path)`` loads ``.gitlab-ci.yml`` (or the file given) and its local includes and
returns a :class:`Pipeline` whose ``jobs`` are the visible jobs, one per ``parallel: matrix``
cell, each with its effective variables, image, scripts and caches, every value traceable to
``file:line`` through ``pipeline.registry``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvci.errors import FatalError
from uvci.gitlab.read import loader
from uvci.gitlab.read.extends import resolve_extends
from uvci.gitlab.read.jobparts import Cache, ScriptLine, caches_of, scripts_of
from uvci.gitlab.read.nodes import Loc, MergedMap, Registry, as_str_list
from uvci.gitlab.read.triggers import MAX_CHILD_DEPTH, child_includes
from uvci.gitlab.read.variables import expand, variable_values
from uvci.gitlab.yaml import roundtrip

RESERVED = frozenset(
    {"default", "include", "stages", "variables", "workflow", "spec", "types"}
    | {"image", "services", "cache", "before_script", "after_script"}
)
DEFAULT_KEYS = ("image", "services", "cache", "before_script", "after_script", "tags", "retry")
JOB_MARKERS = ("script", "trigger", "run", "extends", "stage")
MAX_MATRIX_JOBS = 200


@dataclass(frozen=True)
class Job:
    """One job (or one ``parallel: matrix`` cell) with everything GitLab would apply to it."""

    name: str
    base: str  # the job's key in the YAML (the same for every matrix cell)
    loc: Loc
    config: Mapping[str, Any]
    variables: Mapping[str, str]
    cell: Mapping[str, str]
    image: str | None
    scripts: tuple[ScriptLine, ...]
    caches: tuple[Cache, ...]


@dataclass(frozen=True)
class Pipeline:
    """A whole pipeline: its files, global variables and resolved jobs."""

    root: Path
    project_dir: Path
    documents: tuple[roundtrip.YamlDocument, ...]
    config: MergedMap
    registry: Registry
    jobs: tuple[Job, ...]
    global_variables: Mapping[str, str]
    not_checked: tuple[tuple[str, Loc], ...]
    children: tuple[Pipeline, ...] = ()  # the child pipelines its jobs trigger (local files)

    def locate(self, container: Any, key: Any) -> Loc:
        return self.registry.locate(container, key)

    def every(self) -> Iterator[Pipeline]:
        """This pipeline and, depth first, every child pipeline it triggers."""
        yield self
        for child in self.children:
            yield from child.every()

    def document_for(self, path: Path) -> roundtrip.YamlDocument:
        docs = (doc for pipeline in self.every() for doc in pipeline.documents)
        return next(doc for doc in docs if doc.path == path)


def find_root(path: Path) -> tuple[Path, Path]:
    """``(pipeline file, project dir)`` for a directory or a file argument."""
    if path.is_dir():
        root = path / ".gitlab-ci.yml"
        if not root.is_file():
            raise FatalError(f"{path}: no .gitlab-ci.yml here; pass the pipeline file or its dir")
        return root, path
    if not path.is_file():
        raise FatalError(f"{path}: no such file; pass the pipeline file or its directory")
    return path, path.parent


def read_pipeline(
    path: Path, *, round_trip: bool = True, inputs: Mapping[str, Any] = {}
) -> Pipeline:
    """Load and resolve the pipeline at ``path`` (a directory or a YAML file).

    With ``round_trip=False`` it loads five to six times as fast but its documents cannot be
    written back (no comments or styles): use it only to read. ``inputs``: values for the
    root file's ``spec: inputs`` (the rest take their defaults).
    """
    root, project_dir = find_root(path)
    return _read(root, project_dir, round_trip, inputs, {root.resolve()}, 0)


def _read(
    root: Path,
    project_dir: Path,
    round_trip: bool,
    inputs: Mapping[str, Any],
    seen: set[Path],
    depth: int,
) -> Pipeline:
    loaded = loader.load(root, project_dir, round_trip=round_trip, inputs=inputs)
    globals_ = variable_values(loaded.config.get("variables"))
    jobs = tuple(_jobs(loaded, globals_))
    triggering = {job.base: (job.config, job.loc) for job in jobs if "trigger" in job.config}
    local, others = child_includes(triggering.values(), loaded.registry)
    children: list[Pipeline] = []
    for target, loc in local if depth < MAX_CHILD_DEPTH else []:
        try:
            files = loader.glob_local(target, project_dir, loc)
        except FatalError:  # a variable, or a file a job generates: the child is not checked
            others.append((f"trigger: local: {target} (not in the checkout as written)", loc))
            continue
        for child in files:
            if child.resolve() not in seen:
                seen.add(child.resolve())
                children.append(_read(child, project_dir, round_trip, {}, seen, depth + 1))
    return Pipeline(
        root=root,
        project_dir=project_dir,
        documents=tuple(loaded.documents),
        config=loaded.config,
        registry=loaded.registry,
        jobs=jobs,
        global_variables=globals_,
        not_checked=(*loaded.not_checked, *others),
        children=tuple(children),
    )


def _jobs(loaded: loader.Loaded, globals_: Mapping[str, str]) -> Iterator[Job]:
    """The visible jobs, ``extends`` and defaults applied, one per matrix cell."""
    config = loaded.config
    templates = {k: v for k, v in config.items() if k not in RESERVED and isinstance(v, Mapping)}
    resolved = resolve_extends(templates, loaded.registry, lenient=bool(loaded.not_checked))
    defaults = _defaults(config)
    for key, job_config in resolved.items():
        name = str(key)  # `1:` is a job named "1"
        if name.startswith(".") or not any(marker in job_config for marker in JOB_MARKERS):
            continue
        full = _apply_defaults(job_config, defaults)
        loc = loaded.registry.locate(config, key)
        yield from _cells(name, loc, full, globals_, loaded.registry)


def _defaults(config: MergedMap) -> MergedMap:
    out = MergedMap()
    for key in DEFAULT_KEYS:  # legacy top-level defaults, overridden by `default:`
        if key in config:
            out.put(key, config[key], config)
    default = config.get("default")
    if isinstance(default, Mapping):
        for key, value in default.items():
            out.put(key, value, default)
    return out


def _inherits(job: Mapping[str, Any], what: str) -> Callable[[str], bool]:
    """Whether ``job`` inherits a ``default:`` key / global variable (``inherit:``)."""
    inherit = job.get("inherit")
    value = inherit.get(what, True) if isinstance(inherit, Mapping) else True
    if isinstance(value, list):
        return set(as_str_list(value)).__contains__
    return lambda _key: bool(value)


def _apply_defaults(job: MergedMap, defaults: MergedMap) -> MergedMap:
    inherits = _inherits(job, "default")
    out = MergedMap()
    for key, value in defaults.items():
        if key not in job and inherits(key):
            out.put(key, value, defaults)
    for key, value in job.items():
        out.put(key, value, job)
    return out


def _cells(
    name: str, loc: Loc, config: MergedMap, globals_: Mapping[str, str], registry: Registry
) -> Iterator[Job]:
    inherits = _inherits(config, "variables")
    inherited = {k: v for k, v in globals_.items() if inherits(k)}
    own = {**inherited, **variable_values(config.get("variables"))}
    for cell in matrix_cells(config.get("parallel"), registry.locate(config, "parallel")):
        cell_name = f"{name}: [{', '.join(cell.values())}]" if cell else name
        variables = {**own, **cell}
        runner = {**predefined(cell_name, config), **variables}  # what keys and paths expand
        yield Job(
            name=cell_name,
            base=name,
            loc=loc,
            config=config,
            variables=variables,
            cell=cell,
            image=_image(config.get("image"), runner),
            scripts=scripts_of(config, registry),
            caches=caches_of(config, runner, registry),
        )


def predefined(name: str, config: Mapping[str, Any]) -> dict[str, str]:
    """The runner's per-job variables a pipeline uses in cache keys and paths.

    ``CI_PROJECT_DIR`` is left as written: paths are compared relative to it.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    stage = config.get("stage")
    return {
        "CI_JOB_NAME": name,
        "CI_JOB_NAME_SLUG": slug,
        "CI_JOB_STAGE": str(stage) if isinstance(stage, str) else "test",
    }


def matrix_cells(parallel: Any, where: Loc | None = None) -> list[dict[str, str]]:
    """The variable sets of ``parallel: matrix`` (one empty set when there is no matrix).

    More than GitLab's 200 jobs is a FatalError naming ``where`` (counted before building).
    """
    matrix = parallel.get("matrix") if isinstance(parallel, Mapping) else None
    if not isinstance(matrix, list) or not matrix:
        count = parallel if isinstance(parallel, int) and not isinstance(parallel, bool) else 1
        _at_most(count, where, "parallel")
        return [{}]
    entries = [[(n, as_str_list(e[n])) for n in e] for e in matrix if isinstance(e, Mapping)]
    _at_most(sum(math.prod(len(values) for _, values in entry) for entry in entries), where)
    cells: list[dict[str, str]] = []
    for entry in entries:
        names = [name for name, _ in entry]
        combos = itertools.product(*(values for _, values in entry))
        cells.extend(dict(zip(names, combo, strict=True)) for combo in combos)
    return cells or [{}]


def _at_most(total: int, where: Loc | None, what: str = "parallel: matrix") -> None:
    if total > MAX_MATRIX_JOBS:
        raise FatalError(
            f"{where or what}: {what} makes {total} jobs; GitLab allows at most "
            f"{MAX_MATRIX_JOBS}: split the job"
        )


def _image(value: Any, variables: Mapping[str, str]) -> str | None:
    name = value.get("name") if isinstance(value, Mapping) else value
    return expand(str(name), variables) if name else None
