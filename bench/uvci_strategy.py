"""The ``uvci`` strategy: the pipeline ``uvci generate`` writes, its jobs replayed for real.

The bench does not re-implement the pipeline: it runs ``uvci generate`` (this tree's uvci,
``--uvci-spec uvci==<version>``) in the benchmark project for the matrix, which writes
``.gitlab/ci/uvci.yml`` and locks uvci beside it (``.gitlab/ci/uvci-tool``, against the proxy),
and replays every job of that file:
- the job's cache entry as the runner reads it: the key with ``$PYTHON`` expanded, the paths,
  the policy, and the archive format and level of the ``.uvci`` template's
  ``CACHE_COMPRESSION_FORMAT`` / ``CACHE_COMPRESSION_LEVEL``;
- the job's script items, run by ``bash -eo pipefail`` in the build directory (as the runner's
  shell does) with the template's and the job's variables, up to the test command (the bench
  measures dependency work; :func:`uvci.gitlab.generate.scripts.activate` marks where it
  starts);
- ``PATH`` holds the cell's Python and uv/uvx only, as uv's image does; so a cell that must
  fetch installs uvci and its dependencies as the lock pins them, from its wheelhouse when an
  earlier fill kept them there, else from the index (the proxy serves a uvci wheel built from
  this tree, the dependencies from PyPI) into the job's fresh uv cache: their bytes count as
  index bytes, as they would on a runner.
Jobs are grouped by stage in the order the pipeline lists them (one stage unless
``--build-once``); a ``parallel: matrix`` job is one job per Python.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bench.archive import Format
from bench.jobs import CacheSpec, Job, JobContext, Policy
from bench.projects import BenchError
from uvci import __version__
from uvci.gitlab.generate import scripts as sh
from uvci.gitlab.generate.pipeline import DEFAULT_STAGES
from uvci.util.uvproc import cmd_output, uv_executable

REPO = Path(__file__).resolve().parent.parent
UVCI_SPEC = f"uvci=={__version__}"
RUNNER_SETTINGS = ("CACHE_COMPRESSION_FORMAT", "CACHE_COMPRESSION_LEVEL", "FF_USE_FASTZIP")


def check(result: tuple[int, str, str], what: str) -> str:
    rc, out, err = result
    if rc != 0:
        raise BenchError(f"{what} failed (exit {rc}): {(err or out).strip()[-1500:]}")
    return out


@dataclass(frozen=True)
class Tools:
    """Where the jobs find uv and uvx (a directory holding only those two), and the index
    ``uvci generate`` locks uvci against (the proxy: it serves the uvci built from this tree)."""

    bin_dir: Path
    index_url: str

    @classmethod
    def prepare(cls, scratch: Path, index_url: str) -> Tools:
        real = _real_uv()
        bin_dir = scratch / "uv-bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in ("uv", "uvx"):
            link = bin_dir / name
            if not link.exists():
                link.symlink_to(real.parent / name)
        return cls(bin_dir, index_url)


def _real_uv() -> Path:
    """The uv binary itself (a pyenv shim resolved: its directory also holds uvx)."""
    found = Path(uv_executable()).resolve()
    if "shims" in found.parts:
        out = check(cmd_output(["pyenv", "which", "uv"], timeout=60), "pyenv which uv")
        found = Path(out.strip()).resolve()
    if not (found.parent / "uvx").exists():
        raise BenchError(f"no uvx beside {found}")
    return found


def build_uvci_wheel(out_dir: Path, env: dict[str, str], offline: bool = False) -> Path:
    """This tree's uvci as a wheel in ``out_dir``: what ``uvx --from uvci==X`` installs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = ["build", "--wheel", "--out-dir", str(out_dir), str(REPO)]
    check(cmd_output([uv_executable(), *argv, *(["--offline"] if offline else [])], env=env,
                     timeout=300), "uv build (uvci)")  # fmt: skip
    wheels = sorted(out_dir.glob(f"uvci-{__version__}-*.whl"))
    if not wheels:
        raise BenchError(f"uv build left no uvci {__version__} wheel in {out_dir}")
    return wheels[-1]


def generate(
    project_dir: Path, versions: list[str], index_url: str, extra: tuple[str, ...] = ()
) -> Any:
    """The pipeline ``uvci generate`` writes for this project and matrix, parsed.

    Written as a user commits it: ``.gitlab/ci/uvci.yml`` with the uvci lock beside it
    (``.gitlab/ci/uvci-tool``, locked against ``index_url``), which the jobs' checkout holds."""
    argv = [sys.executable, "-m", "uvci", "generate", str(project_dir)]
    argv += ["--python", ",".join(versions), "--uvci-spec", UVCI_SPEC, *extra]
    env = {**os.environ, "UV_DEFAULT_INDEX": index_url}
    check(cmd_output(argv, env=env, timeout=300), "uvci generate")
    return YAML(typ="safe").load((project_dir / ".gitlab" / "ci" / "uvci.yml").read_text())


def build(
    project_dir: Path, pythons: dict[str, Path], tools: Tools, extra: tuple[str, ...] = ()
) -> list[list[Job]]:
    """The generated pipeline's jobs, stage by stage."""
    doc = generate(project_dir, list(pythons), tools.index_url, extra)
    template = dict(doc.get(".uvci", {}).get("variables", {}))
    order = list(doc.get("stages") or DEFAULT_STAGES)
    stages: dict[str, list[Job]] = {}
    for name, spec in doc.items():
        if name.startswith(".") or not isinstance(spec, dict) or "script" not in spec:
            continue
        for python in _cell_pythons(spec):
            if python not in pythons:
                raise BenchError(f"{name}: Python {python} is not in the bench's matrix")
            job = _job(name, spec, python, pythons[python], template, tools)
            stages.setdefault(str(spec.get("stage", "test")), []).append(job)
    return [stages[s] for s in sorted(stages, key=order.index)]


def _cell_pythons(spec: dict[str, Any]) -> list[str]:
    matrix = (spec.get("parallel") or {}).get("matrix")
    if matrix:
        return [str(p) for entry in matrix for p in entry["PYTHON"]]
    return [str((spec.get("variables") or {}).get("PYTHON") or spec["variables"]["UV_PYTHON"])]


def _job(
    name: str, spec: dict[str, Any], python: str, interpreter: Path, template: dict[str, Any],
    tools: Tools,
) -> Job:  # fmt: skip
    def expand(value: object) -> str:
        return str(value).replace("$PYTHON", python)

    own = {k: expand(v) for k, v in (spec.get("variables") or {}).items()}
    variables = {**{k: str(v) for k, v in template.items()}, "PYTHON": python, **own}
    variables["PATH"] = os.pathsep.join([str(interpreter.parent), str(tools.bin_dir), "/usr/bin",
                                         "/bin"])  # fmt: skip
    fmt: Format = "tarzstd" if variables.get("CACHE_COMPRESSION_FORMAT") == "tarzstd" else "zip"
    fastest = variables.get("CACHE_COMPRESSION_LEVEL") == "fastest"
    caches = tuple(
        CacheSpec(expand(c["key"]), tuple(c["paths"]), _policy(c), fmt, fastest=fastest)
        for c in spec.get("cache") or []
    )
    script = _dependency_script([str(item) for item in spec["script"]])
    label = f"{name}: [{python}]" if (spec.get("parallel") or {}).get("matrix") else name
    env = tuple((k, v) for k, v in variables.items() if k not in RUNNER_SETTINGS)
    return Job(label, caches, _runner(script, label), env)


def _policy(cache: dict[str, Any]) -> Policy:
    policy = str(cache.get("policy", "pull-push"))
    if policy not in ("pull", "push", "pull-push"):
        raise BenchError(f"cache policy {policy!r} is not replayed")
    return policy  # type: ignore[return-value]


def _dependency_script(items: list[str]) -> str:
    """The script items before the test command (``activate()`` starts the test part)."""
    if sh.activate() not in items:
        raise BenchError("the generated script has no activate line: the replay is out of step")
    return "\n".join(items[: items.index(sh.activate())])


def _runner(script: str, label: str) -> Callable[[JobContext], None]:
    def run(ctx: JobContext) -> None:
        argv = ["bash", "-eo", "pipefail", "-c", script]
        check(cmd_output(argv, cwd=ctx.workdir, env=ctx.env, timeout=1800), label)

    return run
