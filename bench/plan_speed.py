"""How long `uvci plan` takes on a large lock: 500 packages, 5 Pythons, wheels for 5 platforms.

    uv run python bench/plan_speed.py [--packages 500] [--repeat 5] [--before PYTHON]

Generates a synthetic uv.lock (forks on the Python version, markers, extras, groups, many
wheels per package) in a temp dir and times `make_plan` over it. The lock-freshness check
(`uv lock --check --offline`, uv's own work) is timed separately on the shipped example.

Then, side by side on a real lock (bench/projects/many: 307 packages, 1.7 MB): the whole `uvci
plan --json` process for five Pythons (start-up and freshness check included) against `uv
export --frozen` run five times (what five cells run), taking turns, medians (``--before``: a
third contender, another uvci, e.g. an install of an older commit); and the lock parsed by the
stdlib's tomllib against tomli's compiled build (what uvci uses).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tomli

from uvci.planning import make_plan
from uvci.util.uvproc import run_uv, uv_executable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 has no tomllib: compare tomli with itself
    tomllib = tomli

PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_27_x86_64.manylinux_2_28_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
)
INDEX = "https://bench.invalid/simple"


def _wheels(name: str, version: str, compiled: bool) -> list[str]:
    if not compiled:
        return [_file(f"{name}-{version}-py3-none-any.whl")]
    return [
        _file(f"{name}-{version}-cp{py.replace('.', '')}-cp{py.replace('.', '')}-{plat}.whl")
        for py in PYTHONS
        for plat in PLATFORMS
    ]


def _file(filename: str) -> str:
    digest = f"{abs(hash(filename)):064x}"[:64]
    url = f"https://bench.invalid/f/{filename}"
    return f'    {{ url = "{url}", hash = "sha256:{digest}", size = 1000 }},'


def _package(i: int, count: int) -> str:
    name, compiled = f"pkg{i}", i % 5 == 0
    deps = [f'    {{ name = "pkg{j}" }},' for j in (2 * i + 1, 2 * i + 2) if j < count]
    if i % 7 == 0 and i + 3 < count:
        deps.append(f'    {{ name = "pkg{i + 3}", marker = "python_full_version < \'3.12\'" }},')
    return "\n".join(
        [
            "[[package]]",
            f'name = "{name}"',
            'version = "1.0"',
            f'source = {{ registry = "{INDEX}" }}',
            "dependencies = [",
            *deps,
            "]",
            f'sdist = {{ url = "https://bench.invalid/f/{name}-1.0.tar.gz", '
            f'hash = "sha256:{"0" * 64}", size = 5000 }}',
            "wheels = [",
            *_wheels(name, "1.0", compiled),
            "]",
            "",
        ]
    )


def write_project(root: Path, count: int) -> None:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "big"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["pkg0"]\n'
    )
    head = (
        'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "big"\nversion = "1.0"\nsource = { editable = "." }\n'
        'dependencies = [\n    { name = "pkg0" },\n]\n\n'
    )
    body = "\n".join(_package(i, count) for i in range(count))
    (root / "uv.lock").write_text(head + body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    before = "also time the uvci that PYTHON runs (-m uvci), e.g. an older one"
    parser.add_argument("--before", metavar="PYTHON", help=before)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, args.packages)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            plan = make_plan(root, python=list(PYTHONS), check_lock=False)
            times.append(time.perf_counter() - start)
        cells = ", ".join(f"{c.python}: {len(c.packages)}" for c in plan.cells)
        print(f"lock: {args.packages} packages; cells: {cells}")
        median, worst = statistics.median(times) * 1000, max(times) * 1000
        print(f"make_plan: median {median:.0f} ms, max {worst:.0f} ms")
    real_lock(Path(__file__).parent / "projects" / "many", args.repeat, args.before)
    example = Path(__file__).parents[1] / "examples" / "matrix-demo"
    start = time.perf_counter()
    rc, _, _ = run_uv(["lock", "--check", "--offline", "--quiet"], cwd=example)
    took = (time.perf_counter() - start) * 1000
    print(f"uv lock --check --offline (example, rc {rc}): {took:.0f} ms")


def _alternating(argvs: dict[str, tuple[list[str], int]], repeat: int) -> dict[str, float]:
    """The median wall time (s) of each ``name: (argv, times)``, ``argv`` run ``times`` in a
    row, the contenders taking turns ``repeat`` times after one untimed round (which leaves
    every module compiled: the environment's PYTHONDONTWRITEBYTECODE is dropped, as after any
    install that compiles bytecode, or any second run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs: dict[str, list[float]] = {name: [] for name in argvs}
    for round_ in range(repeat + 1):
        for name, (argv, times) in argvs.items():
            start = time.perf_counter()
            for _ in range(times):
                subprocess.run(argv, check=True, capture_output=True, env=env)
            if round_:
                runs[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in runs.items()}


def real_lock(project: Path, repeat: int, before: str | None = None) -> None:
    pythons = ",".join(PYTHONS)
    plan = ["-m", "uvci", "plan", str(project), "--python", pythons, "--json"]
    export = [uv_executable(), "export", "--frozen", "--quiet", "--project", str(project)]
    argvs = {"uvci": ([sys.executable, *plan], 1), "uv": ([*export, "-o", os.devnull], 5)}
    if before:
        argvs["before"] = ([before, *plan], 1)
    took = _alternating(argvs, repeat)
    print(f"real lock {project.name}, medians of {repeat} alternating runs ({os.cpu_count()} "
          f"cores): uvci plan --json, 5 Pythons: {took['uvci']:.3f} s; uv export x5: "
          f"{took['uv']:.3f} s; ratio {took['uvci'] / took['uv']:.2f}")  # fmt: skip
    if before:
        print(f"  before ({before}): {took['before']:.3f} s; ratio to uv export x5 "
              f"{took['before'] / took['uv']:.2f}")  # fmt: skip
    text = (project / "uv.lock").read_text(encoding="utf-8")
    parsers = {"tomllib": tomllib.loads, "tomli": tomli.loads}
    parse = {
        name: min(_timed(loads, text) for _ in range(repeat)) for name, loads in parsers.items()
    }
    print(f"parse uv.lock: tomllib {parse['tomllib']:.3f} s, tomli {parse['tomli']:.3f} s "
          f"({parse['tomllib'] / parse['tomli']:.1f}x)")  # fmt: skip
    startup(repeat, before)


def startup(repeat: int, before: str | None) -> None:
    """``uvci --version`` and ``uvci --help``, which load no command (and ``before``'s)."""
    pythons = {"uvci": sys.executable, **({"before": before} if before else {})}
    for flag in ("--version", "--help"):
        argvs = {name: ([py, "-m", "uvci", flag], 1) for name, py in pythons.items()}
        took = _alternating(argvs, repeat)
        shown = "; ".join(f"{name}: {seconds:.3f} s" for name, seconds in took.items())
        print(f"uvci {flag}, medians of {repeat}: {shown}")


def _timed(loads: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    loads(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
