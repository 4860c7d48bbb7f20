"""How long `uvci doctor` takes on a large pipeline: ~2,000 lines, 200 jobs (the target: the
whole process well under 0.5 s of CPU).

    uv run --group dev python bench/doctor_speed.py [--jobs 200] [--repeat 5]

Generates a synthetic project in a temp dir: a root `.gitlab-ci.yml` with a `spec:` header,
a local include of templates (anchors, an `extends` chain, `!reference`), 200 jobs of which
every fourth is a 5-cell `parallel: matrix`, plus pyproject.toml and a small uv.lock. It times
the whole check (read, resolve, all rules) and, separately, the text rendering, and prints
the median and worst of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from uvci.doctor import render
from uvci.doctor.engine import check
from uvci.util.uvproc import cmd_output

PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
TEMPLATES = """\
# shared templates (anchors, extends chain, !reference)
.uv-cache: &uv-cache
  key:
    files: [uv.lock]
    prefix: py$PYTHON_VERSION
  paths: [.uv-cache]
  policy: pull

.steps:
  sync:
    - uv sync --locked
  test:
    - uv run --locked pytest -q

.uv:
  image: ghcr.io/astral-sh/uv:0.9.17-python$PYTHON_VERSION-bookworm-slim
  cache: *uv-cache

.test:
  extends: .uv
  before_script:
    - !reference [.steps, sync]
"""
PYPROJECT = (
    """\
[project]
name = "bench"
version = "0.1.0"
requires-python = ">=3.10"
classifiers = [
"""
    + "".join(f'    "Programming Language :: Python :: {v}",\n' for v in PYTHONS)
    + "]\n"
)
LOCK = 'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n\n' + (
    '[[package]]\nname = "bench"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
)


def job_yaml(index: int) -> str:
    """One job of ~10 lines; every fourth is a matrix over all Pythons, some are unlocked."""
    lines = [
        f"job-{index:03d}:",
        "  extends: .test",
        "  stage: test",
        "  variables:",
        f'    SHARD: "{index}"',
    ]
    if index % 4 == 0:
        versions = ", ".join(f'"{v}"' for v in PYTHONS)
        lines += ["  parallel:", "    matrix:", f"      - PYTHON_VERSION: [{versions}]"]
    else:
        lines.append(f'    PYTHON_VERSION: "{PYTHONS[index % len(PYTHONS)]}"')
    lines += [
        "  script:",
        "    - !reference [.steps, test]",
        f"    - uv run{' --locked' if index % 7 else ''} python -m bench --shard $SHARD",
        "",
    ]
    return "\n".join(lines)


def write_project(root: Path, jobs: int) -> int:
    """Write the synthetic project; return the number of YAML lines."""
    header = 'spec:\n  inputs:\n    uv:\n      default: "0.9.17"\n---\n'
    body = "include:\n  - local: ci/templates.yml\n\n"
    body += 'variables:\n  UV_CACHE_DIR: "$CI_PROJECT_DIR/.uv-cache"\n\n'
    root_text = header + body + "\n".join(job_yaml(i) for i in range(jobs))
    (root / "ci").mkdir()
    (root / "ci" / "templates.yml").write_text(TEMPLATES)
    (root / ".gitlab-ci.yml").write_text(root_text)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "uv.lock").write_text(LOCK)
    return root_text.count("\n") + TEMPLATES.count("\n")


def timed(repeat: int, root: Path) -> tuple[list[float], list[float], int, int]:
    checks: list[float] = []
    renders: list[float] = []
    report = check(root)
    for _ in range(repeat):
        start = time.perf_counter()
        report = check(root)
        middle = time.perf_counter()
        render.render_text(report)
        checks.append(middle - start)
        renders.append(time.perf_counter() - middle)
    return checks, renders, len(report.pipeline.jobs), len(report.findings)


def cli_run(root: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a whole `python -m uvci doctor` process (startup included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    rc, _, err = cmd_output([sys.executable, "-m", "uvci", "doctor", str(root)])
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc not in (0, 1):
        raise SystemExit(f"uvci doctor failed (rc {rc}): {err.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="uvci-doctor-bench-") as tmp:
        root = Path(tmp)
        lines = write_project(root, args.jobs)
        checks, renders, cells, findings = timed(args.repeat, root)
        wall, cpu = cli_run(root)
    print(f"pipeline: {lines} lines, {args.jobs} jobs ({cells} with matrix cells)")
    print(f"findings: {findings}")
    print(f"check:  median {statistics.median(checks):.3f} s, worst {max(checks):.3f} s")
    print(f"render: median {statistics.median(renders):.3f} s, worst {max(renders):.3f} s")
    print(f"whole CLI process: {wall:.3f} s wall, {cpu:.3f} s CPU (interpreter start included)")
    total = statistics.median(checks) + statistics.median(renders)
    verdict = "OK" if cpu < 0.5 else "MORE THAN 0.5 s OF CPU"
    print(
        f"target: whole process < 0.5 s CPU ({cpu:.3f} s; check + render {total:.3f} s): {verdict}"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
