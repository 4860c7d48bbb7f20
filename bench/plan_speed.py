"""How long `uvci plan` takes on a large lock: 500 packages, 5 Pythons, wheels for 5 platforms.

    uv run python bench/plan_speed.py [--packages 500] [--repeat 5]

Generates a synthetic uv.lock (forks on the Python version, markers, extras, groups, many
wheels per package) in a temp dir and times `make_plan` over it. The lock-freshness check
(`uv lock --check --offline`, uv's own work) is timed separately on the shipped example.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from uvci.plan import make_plan
from uvci.uvproc import run_uv

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
    example = Path(__file__).parents[1] / "examples" / "matrix-demo"
    start = time.perf_counter()
    rc, _, _ = run_uv(["lock", "--check", "--offline", "--quiet"], cwd=example)
    took = (time.perf_counter() - start) * 1000
    print(f"uv lock --check --offline (example, rc {rc}): {took:.0f} ms")


if __name__ == "__main__":
    main()
