"""Which cache archive format suits a wheelhouse: size, archive and extract time, side by side.

    uv run --locked --all-groups python -m bench.archive_formats DIR [--rounds 5] [--json OUT]

``DIR`` is a wheelhouse (e.g. one ``uvci prefetch`` filled for a bench project). Each round
archives and extracts it in every runner format (:mod:`bench.archive`: zip deflate, zip stored
as the runner's fastzip writes it at ``CACHE_COMPRESSION_LEVEL: fastest``, tar+zstd at the
default and the fastest level), in turn, and the medians are printed. Python's zipfile and the
``zstandard`` package stand in for the runner's Go archivers (one thread here; the runner's
fastzip archives and extracts zip entries in parallel, its tar+zstd extracts in one stream), so
the times rank the formats' work, not the runner's speed; the sizes are the archives'.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.archive import Format, create, extract

VARIANTS: tuple[tuple[str, Format, bool], ...] = (
    ("zip deflate (default level)", "zip", False),
    ("zip stored (fastzip, fastest)", "zip", True),
    ("tar+zstd (default level)", "tarzstd", False),
    ("tar+zstd (fastest)", "tarzstd", True),
)


def measure(wheelhouse: Path, rounds: int) -> list[dict[str, object]]:
    data = sum(p.stat().st_size for p in wheelhouse.rglob("*") if p.is_file())
    times: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="uvci-archive-") as scratch:
        root = Path(scratch)
        for _ in range(rounds):
            for name, fmt, fastest in VARIANTS:  # interleaved: drift hits every format alike
                out = root / "archive"
                started = time.perf_counter()
                create(wheelhouse.parent, (wheelhouse.name,), out, fmt, fastest=fastest)
                packed = time.perf_counter()
                target = root / "extracted"
                target.mkdir()
                extract(out, target, fmt)
                done = time.perf_counter()
                times[name].append((packed - started, done - packed, out.stat().st_size))
                out.unlink()
                shutil.rmtree(target)
    rows: list[dict[str, object]] = []
    for name, fmt, fastest in VARIANTS:
        samples = times[name]
        size = samples[0][2]
        rows.append({
            "format": name, "CACHE_COMPRESSION_FORMAT": fmt,
            "CACHE_COMPRESSION_LEVEL": "fastest" if fastest else "default",
            "data_bytes": data, "archive_bytes": size, "ratio": round(size / data, 4),
            "archive_s": round(statistics.median(s[0] for s in samples), 3),
            "extract_s": round(statistics.median(s[1] for s in samples), 3),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheelhouse", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the rows here as JSON too")
    args = parser.parse_args(argv)
    rows = measure(args.wheelhouse.resolve(), args.rounds)
    print("| format | archive MB | of the data | archive s | extract s |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        mb = int(str(row["archive_bytes"])) / 1e6
        print(f"| {row['format']} | {mb:.1f} | {row['ratio']} | {row['archive_s']} | "
              f"{row['extract_s']} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
