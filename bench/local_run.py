"""Wall time of the local matrix: `uvci run` against nox and tox (with tox-uv), cold and warm.

    uv run --group bench python bench/local_run.py [--python 3.10,3.11,3.12,3.13] [--repeat 3]
        [--json PATH] [--one-cell-only --repeat 15] [--before PYTHON] [--one-cell-project DIR]

Every tool runs the same project (bench/projects/pure: the locked dependencies plus pytest, and a
small test suite written here) on the same interpreters, installing exactly what uv.lock pins:
nox with its documented uv recipe (``uv sync --locked`` into the session's venv), tox with
tox-uv's ``uv-venv-lock-runner``. Each tool gets its own copy of the project and its own uv cache.

- cold: no environments, an empty uv cache (and no wheelhouse): everything comes from PyPI;
- warm: the same command again, with whatever each tool keeps.

Each is the median of ``--repeat`` runs.

nox recreates its environments unless ``-r``; tox reuses them; tox ``-p`` runs environments in
parallel; `uvci run` reuses a cell environment whose stamp still matches (``--fresh``: builds
every one anew), cells in parallel. Warm runs go round-robin over the tools so that load drifting
on the machine weighs on all alike. Needs the network (PyPI) for the cold runs.

Then one warm cell (the first Python): `uvci run --python X` against `uv run --locked pytest`,
each in its own copy of the project with its environment already built (an untimed first run),
run alternately ``--repeat`` times; the ratio of the medians is uvci's overhead on a warm cell.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvci.runner.interpreters import Interpreter, find_interpreters
from uvci.util.uvproc import cmd_output

PROJECT = Path(__file__).resolve().parent / "projects" / "pure"
VENV_BIN = Path(sys.executable).parent
STATE = (".uvci", ".nox", ".tox", ".venv", ".pytest_cache")  # what the tools keep in a project
TESTS = """\
import attrs
import click
import httpx
import packaging.version
import pytest
import rich.text


@attrs.define
class Point:
    x: int
    y: int


@pytest.mark.parametrize("n", range(40))
def test_point(n: int) -> None:
    assert Point(n, n).x == n


def test_versions() -> None:
    assert packaging.version.Version("1.10") > packaging.version.Version("1.9")


def test_libraries() -> None:
    assert rich.text.Text("x").plain == "x" and click.style("x") and httpx.URL("http://a/").host
"""
NOXFILE = """\
import nox

nox.options.default_venv_backend = "uv"


@nox.session(python={pythons!r})
def tests(session: nox.Session) -> None:
    session.run_install(
        "uv", "sync", "--locked", f"--python={{session.virtualenv.location}}",
        env={{"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}},
    )
    session.run("pytest", "-q")
"""
TOX_INI = """\
[tox]
env_list = {envs}

[testenv]
runner = uv-venv-lock-runner
commands = pytest -q
"""


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]


def tools(pythons: Sequence[str]) -> list[Tool]:
    envs = ",".join(f"py{p.replace('.', '')}" for p in pythons)
    uvci = (sys.executable, "-m", "uvci", "run", ".", "--python", ",".join(pythons))
    nox, tox = str(VENV_BIN / "nox"), str(VENV_BIN / "tox")
    return [
        Tool("uvci run", (*uvci, "--test-command", "pytest -q")),
        Tool("uvci run --fresh", (*uvci, "--test-command", "pytest -q", "--fresh")),
        Tool("nox", (nox,)),
        Tool("nox -r", (nox, "-r")),
        Tool("tox", (tox, "-e", envs)),
        Tool("tox -p", (tox, "-p", "auto", "-e", envs)),
    ]


def make_project(dest: Path, pythons: Sequence[str]) -> Path:
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(PROJECT / name, dest / name)
    (dest / "tests").mkdir()
    (dest / "tests" / "test_bench.py").write_text(TESTS)
    (dest / "noxfile.py").write_text(NOXFILE.format(pythons=list(pythons)))
    envs = ", ".join(f"py{p.replace('.', '')}" for p in pythons)
    (dest / "tox.ini").write_text(TOX_INI.format(envs=envs))
    return dest


def environ(interpreters: Sequence[Interpreter], cache: Path) -> dict[str, str]:
    """Every interpreter's own bin dir on PATH (no pyenv shims), a private uv cache.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: tox does not pass it to its environments while nox
    and uvci do, which would make the others recompile every module on every run.
    """
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep) if "shims" not in d]
    dirs = [str(i.path.parent) for i in interpreters]
    drop = ("UV_", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    path = os.pathsep.join([str(VENV_BIN), *dirs, *keep])
    return {**env, "PATH": path, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}


def timed(tool: Tool, project: Path, env: dict[str, str]) -> float:
    start = time.monotonic()
    rc, out, err = cmd_output(tool.argv, cwd=project, env=env, timeout=1800)
    seconds = time.monotonic() - start
    print(f"{tool.name}: {seconds:.2f}s", file=sys.stderr, flush=True)
    if rc != 0:
        tail = "\n".join(f"{out}{err}".strip().splitlines()[-15:])
        raise SystemExit(f"{tool.name} failed (exit {rc}) in {project}:\n{tail}")
    return seconds


def prepare(
    tool: Tool, workdir: Path, interpreters: Sequence[Interpreter], source: Path | None = None
) -> tuple[Path, dict[str, str]]:
    """The tool's own copy of the project (``source``: a copy of that one) and environment
    (its own, empty, uv cache)."""
    slug = tool.name.replace(" ", "-")
    if source is None:
        project = make_project(workdir / slug, [i.python for i in interpreters])
    else:
        project = workdir / slug
        shutil.copytree(source, project, ignore=shutil.ignore_patterns(*STATE))
    return project, environ(interpreters, workdir / f"cache-{slug}")


def forget(project: Path, env: dict[str, str]) -> None:
    """Back to cold: no environments, no wheelhouse, an empty uv cache."""
    for name in STATE:
        shutil.rmtree(project / name, ignore_errors=True)
    shutil.rmtree(env["UV_CACHE_DIR"], ignore_errors=True)


def rounds(
    selected: Sequence[Tool], setups: Sequence[tuple[Path, dict[str, str]]], n: int, cold: bool
) -> list[list[float]]:
    """``n`` rounds over all tools in turn, so that load drifting on the machine (other
    processes) weighs on every tool alike; a cold round forgets everything first."""
    times: list[list[float]] = [[] for _ in selected]
    for _ in range(n):
        for runs, tool, (project, env) in zip(times, selected, setups, strict=True):
            if cold:
                forget(project, env)
            runs.append(timed(tool, project, env))
    return times


def measure(
    selected: Sequence[Tool], workdir: Path, interpreters: Sequence[Interpreter], repeat: int
) -> list[dict[str, Any]]:
    setups = [prepare(tool, workdir, interpreters) for tool in selected]
    cold = rounds(selected, setups, repeat, cold=True)
    warm = rounds(selected, setups, repeat, cold=False)
    return [
        {
            "tool": tool.name,
            "argv": list(tool.argv),
            "cold_seconds": round(statistics.median(cold_runs), 3),
            "warm_seconds": round(statistics.median(warm_runs), 3),
            "cold_runs": [round(c, 3) for c in cold_runs],
            "warm_runs": [round(w, 3) for w in warm_runs],
        }
        for tool, cold_runs, warm_runs in zip(selected, cold, warm, strict=True)
    ]


def one_cell(
    workdir: Path,
    interpreter: Interpreter,
    repeat: int,
    before: str | None = None,
    source: Path | None = None,
) -> dict[str, Any]:
    """Warm `uvci run` of one cell against `uv run --locked pytest` (see the module doc);
    ``before``: a Python whose `-m uvci` (e.g. an older uvci) runs the cell too; ``source``: a
    project to copy (with its tests and lock) instead of the bench's own."""
    py = interpreter.python
    run = ("-m", "uvci", "run", ".", "--python", py, "--test-command", "pytest -q")
    uv = ("uv", "run", "--locked", "--python", str(interpreter.path), "pytest", "-q")
    racers = [Tool(f"uvci run --python {py}", (sys.executable, *run)),
              Tool("uv run --locked pytest", uv)]  # fmt: skip
    if before:
        racers.append(Tool(f"uvci run --python {py} (before)", (before, *run)))
    setups = [prepare(tool, workdir / "one-cell", [interpreter], source) for tool in racers]
    rounds(racers, setups, 1, cold=False)  # builds each environment: not timed
    times = rounds(racers, setups, repeat, cold=False)
    medians = [statistics.median(runs) for runs in times]
    return {
        "python": py,
        "project": (source or PROJECT).name,
        "tools": [tool.name for tool in racers],
        "warm_seconds": [round(m, 3) for m in medians],
        "warm_runs": [[round(t, 3) for t in runs] for runs in times],
        "ratios_to_uv_run": [round(m / medians[1], 2) for m in medians],
    }


def one_cell_markdown(result: dict[str, Any]) -> str:
    lines = [f"One warm cell of {result['project']}, Python {result['python']}; "
             f"{os.cpu_count()} cores; medians of "
             f"{len(result['warm_runs'][0])} alternating runs", "",
             "| command | warm (s) | ratio to uv run | runs |",
             "| --- | ---: | ---: | --- |"]  # fmt: skip
    for tool, median, ratio, runs in zip(result["tools"], result["warm_seconds"],
                                         result["ratios_to_uv_run"], result["warm_runs"],
                                         strict=True):  # fmt: skip
        lines.append(f"| {tool} | {median:.3f} | {ratio:.2f} | "
                     f"{' '.join(f'{r:.2f}' for r in runs)} |")  # fmt: skip
    return "\n".join(lines)


def markdown(results: Sequence[dict[str, Any]], pythons: Sequence[str]) -> str:
    lines = [f"Python {', '.join(pythons)}; {os.cpu_count()} cores; medians", "",
             "| tool | cold (s) | warm (s) | cold runs | warm runs |",
             "| --- | ---: | ---: | --- | --- |"]  # fmt: skip
    for r in results:
        runs = [" ".join(f"{x:.1f}" for x in r[k]) for k in ("cold_runs", "warm_runs")]
        lines.append(f"| {r['tool']} | {r['cold_seconds']:.2f} | {r['warm_seconds']:.2f} | "
                     f"{runs[0]} | {runs[1]} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", default="3.10,3.11,3.12,3.13", help="comma-separated minors")
    parser.add_argument("--repeat", type=int, default=3, help="cold and warm runs per tool")
    parser.add_argument("--only", action="append", help="measure only this tool (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one-cell-only", action="store_true", help="only the one-cell race")
    parser.add_argument("--before", metavar="PYTHON", help="one cell: also PYTHON's -m uvci")
    copy = "one cell: a copy of this project (e.g. examples/matrix-demo)"
    parser.add_argument("--one-cell-project", type=Path, metavar="DIR", help=copy)
    args = parser.parse_args(argv)
    found = find_interpreters(args.python.split(","))
    interpreters = [i for i in found.values() if isinstance(i, Interpreter)]
    pythons = [i.python for i in interpreters]
    selected = [t for t in tools(pythons) if not args.only or t.name in args.only]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="uvci-local-run-") as scratch:
        if not args.one_cell_only:
            results = measure(selected, Path(scratch), interpreters, args.repeat)
            print(markdown(results, pythons))
        cell = one_cell(
            Path(scratch), interpreters[0], args.repeat, args.before, args.one_cell_project
        )
    print(one_cell_markdown(cell))
    if args.json:
        doc = {"pythons": pythons, "results": results, "one_cell": cell}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
