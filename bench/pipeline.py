"""Replay the dependency work of whole GitLab pipelines under five caching strategies.

    uv run --group bench python bench/pipeline.py            # the full benchmark -> docs/
    uv run --group bench python bench/pipeline.py --quick    # pure project, 2 Pythons, fast
    uv run --group bench python bench/pipeline.py lock       # relock bench/projects/* via PyPI
    uv run --group bench python bench/pipeline.py report     # redo docs/ table+chart from JSON

Everything is real: SeaweedFS on loopback as the runner's S3 cache, a loopback caching proxy
in front of PyPI (counted, throttled), uv installs, the runner's archive formats.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report
from bench.projects import DEFAULT_PROJECTS, PROJECTS, BenchError, base_env, write_canonical_lock
from bench.proxy import IndexProxy
from bench.scenarios import PROFILES, SCENARIOS, Bench, installed_pythons
from bench.storage import CacheStore, SeaweedServer, StorageError
from bench.strategies import STRATEGIES
from bench.throttle import Throttle
from bench.uvci_strategy import build_uvci_wheel

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PROXY_CACHE = Path.home() / ".cache" / "uvci-bench" / "index"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", nargs="?", choices=["run", "lock", "report"], default="run")
    parser.add_argument(
        "--quick", action="store_true", help="pure project, 2 Pythons, fast profile"
    )
    parser.add_argument("--project", action="append", choices=sorted(PROJECTS))
    parser.add_argument("--profile", action="append", choices=sorted(PROFILES))
    parser.add_argument("--strategy", action="append", choices=STRATEGIES)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--pythons", type=int, default=0, help="use the first N (default: all)")
    fmt_help = "archive format of the none/seed/uv-docs caches (GitLab's default: zip)"
    parser.add_argument("--cache-format", choices=["zip", "tarzstd"], default="zip", help=fmt_help)
    out_help = "where to write results (default: docs/, or a temp dir with --quick)"
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--proxy-cache", type=Path, default=DEFAULT_PROXY_CACHE)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; seconds are medians")
    start_help = "per-job start-up cost for the report's second critical path (default 30)"
    parser.add_argument("--job-start", type=float, default=30.0, help=start_help)
    merge_help = "keep the records already in OUT/benchmarks.json that this run does not redo"
    parser.add_argument("--merge", action="store_true", help=merge_help)
    return parser.parse_args(argv)


def apply_quick(args: argparse.Namespace) -> None:
    if args.quick:
        args.project = args.project or ["pure"]
        args.profile = args.profile or ["fast"]
        args.pythons = args.pythons or 2
    args.project = args.project or list(DEFAULT_PROJECTS)
    args.profile = args.profile or list(PROFILES)
    args.strategy = args.strategy or list(STRATEGIES)
    args.scenario = args.scenario or list(SCENARIOS)


def lock_projects(args: argparse.Namespace, scratch: Path) -> int:
    with IndexProxy(args.proxy_cache, Throttle(None)) as proxy:
        for name in args.project:
            path = write_canonical_lock(PROJECTS[name], proxy.url, scratch / f"lock-{name}")
            print(f"locked {path}")
    return 0


def run(args: argparse.Namespace, scratch: Path) -> int:
    pythons = installed_pythons(args.pythons)
    print(f"pythons: {', '.join(pythons)}", flush=True)
    local = scratch / "local-wheels"  # uvci itself, served by the proxy to the jobs' uvx
    build_uvci_wheel(local, base_env())
    with (
        SeaweedServer(scratch / "seaweed") as server,
        IndexProxy(args.proxy_cache, Throttle(None), local=local) as proxy,
    ):
        store = CacheStore(server.endpoint, Throttle(None))  # each profile sets its rate
        bench = Bench(proxy, store, scratch, pythons, args.cache_format)
        records, failures = bench.run_all(
            args.project, args.profile, args.strategy, args.scenario, args.repeat
        )
    out = args.out or (scratch.parent / "uvci-bench-quick" if args.quick else REPO / "docs")
    if args.merge:
        records = report.merge(out / "benchmarks.json", records)
    report.write(out, records, failures, vars(args), pythons)
    print(f"wrote {out}")
    return 1 if failures else 0


def rewrite_report(args: argparse.Namespace) -> int:
    """Redo benchmarks.md's table and the chart from the JSON already in OUT (default docs/)."""
    out = args.out or REPO / "docs"
    source = out / "benchmarks.json"
    if not source.is_file():
        raise BenchError(f"{source}: no results to report; run the benchmark first")
    records = json.loads(source.read_text())
    pythons = {v: Path() for v in (records[0]["pythons"] if records else [])}
    report.write(out, records, [], vars(args), pythons)
    print(f"wrote {out}")
    return 0


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so SeaweedFS, the proxy and the temp dir are cleaned up."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    apply_quick(args)
    signal.signal(signal.SIGTERM, _stop)
    with tempfile.TemporaryDirectory(prefix="uvci-bench-") as tmp:
        try:
            if args.command == "report":
                return rewrite_report(args)
            if args.command == "lock":
                return lock_projects(args, Path(tmp))
            return run(args, Path(tmp))
        except (BenchError, StorageError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("bench: interrupted; no results written", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
