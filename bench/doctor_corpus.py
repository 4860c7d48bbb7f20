"""Recall and false findings of `uvci doctor` on the corpus of public pipelines.

    uv run python bench/doctor_corpus.py [--corpus DIR] [--mirrors MIRRORS]

``bench/doctor_corpus.toml`` lists each pipeline of the corpus (where it was found, the
directory of its uv.lock, and the rules a careful reviewer expects from it: the hand
verdicts). The pipelines themselves are not in this repository: DIR holds one directory
per entry, ``DIR/<name>/.gitlab-ci.yml`` (default ``bench/results/doctor-corpus``, which git
ignores), fetched from the listed sources: ``--mirrors`` fills it for ``github:`` sources from
local git mirrors (``MIRRORS/<owner>+<repo>/repo``, e.g. made by the search tool's fetch),
with ``git show <commit>:<path>``; docs blocks are written there by hand from the index. An
entry without a local copy is listed as not run, and not counted. Each is checked in a
scratch copy with a placeholder uv.lock where the repository has one.

Counted per pipeline and rule: a hit is an expected rule doctor reports, a miss one it does
not, a false finding a reported rule that is not expected. Rules that need the project's
real pyproject.toml or uv.lock contents (UVC008, UVC011, UVC013) are not judged.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from uvci.doctor.engine import check
from uvci.errors import FatalError
from uvci.util.tomlio import load_toml

DATA = Path(__file__).with_suffix(".toml")
CACHE = Path(__file__).parent / "results" / "doctor-corpus"
NOT_JUDGED = frozenset({"UVC008", "UVC011", "UVC013"})
LOCK = 'version = 1\nrevision = 3\nrequires-python = ">=3.9"\n'


@dataclass(frozen=True)
class Entry:
    name: str
    source: str
    kind: str
    split: str
    lock: str
    expected: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    found: frozenset[str]
    error: str = ""

    @property
    def hits(self) -> frozenset[str]:
        return self.found & self.entry.expected

    @property
    def misses(self) -> frozenset[str]:
        return self.entry.expected - self.found

    @property
    def false(self) -> frozenset[str]:
        return self.found - self.entry.expected


def entries(path: Path = DATA) -> list[Entry]:
    data = load_toml(path, missing_hint="it lists the corpus")
    return [
        Entry(
            name=item["name"],
            source=item["source"],
            kind=item["kind"],
            split=item["split"],
            lock=item.get("lock", ""),
            expected=frozenset(item["expected"]),
        )
        for item in data["pipeline"]
    ]


def fill_from_mirrors(items: list[Entry], corpus: Path, mirrors: Path) -> None:
    """Write ``corpus/<name>/.gitlab-ci.yml`` of each ``github:`` entry from its mirror."""
    for entry in items:
        if not entry.source.startswith("github:") or "@" not in entry.source:
            continue
        where, commit = entry.source.removeprefix("github:").rsplit("@", 1)
        owner, repo, path = where.split("/", 2)
        git_dir = mirrors / f"{owner}+{repo}" / "repo"
        shown = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
            capture_output=True,
            check=False,
        )
        if shown.returncode == 0:
            (corpus / entry.name).mkdir(parents=True, exist_ok=True)
            (corpus / entry.name / ".gitlab-ci.yml").write_bytes(shown.stdout)


def judge(entry: Entry, corpus: Path) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="uvci-corpus-") as tmp:
        work = Path(tmp)
        shutil.copy(corpus / entry.name / ".gitlab-ci.yml", work / ".gitlab-ci.yml")
        if entry.lock:
            (work / entry.lock).parent.mkdir(parents=True, exist_ok=True)
            (work / entry.lock).write_text(LOCK)
        try:
            report = check(work)
        except FatalError as exc:
            return Outcome(entry, frozenset(), exc.message)
    return Outcome(entry, frozenset(f.rule for f in report.findings) - NOT_JUDGED)


def totals(outcomes: list[Outcome]) -> tuple[int, int, int, int]:
    """(pipelines, expected problems, hits, false findings)."""
    expected = sum(len(o.entry.expected) for o in outcomes)
    hits = sum(len(o.hits) for o in outcomes)
    return len(outcomes), expected, hits, sum(len(o.false) for o in outcomes)


def summary(label: str, outcomes: list[Outcome]) -> str:
    files, expected, hits, false = totals(outcomes)
    recall = f"{100 * hits / expected:.0f}%" if expected else "n/a"
    per_ten = f"{10 * false / files:.1f}" if files else "n/a"
    refused = sum(1 for o in outcomes if o.error)
    return (
        f"| {label} | {files} | {expected} | {hits} ({recall}) | {false} ({per_ten} per 10 "
        f"files) | {refused} |"
    )


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "| pipelines | files | expected problems | found (recall) | false findings | refused |",
        "| --- | --- | --- | --- | --- | --- |",
        summary("all", outcomes),
    ]
    for split in dict.fromkeys(o.entry.split for o in outcomes):
        lines.append(summary(split, [o for o in outcomes if o.entry.split == split]))
    lines += ["", "| pipeline | split | expected | missed | false | refused |", "| --- " * 6 + "|"]
    for o in outcomes:
        lines.append(
            f"| {o.entry.name} | {o.entry.split} | {_ids(o.entry.expected)} | "
            f"{_ids(o.misses)} | {_ids(o.false)} | {o.error[:60]} |"
        )
    return "\n".join(lines) + "\n"


def _ids(rules: frozenset[str]) -> str:
    return " ".join(sorted(rules)) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CACHE, help="DIR/<name>/.gitlab-ci.yml")
    parser.add_argument("--data", type=Path, default=DATA, help="sources and hand verdicts")
    parser.add_argument("--mirrors", type=Path, help="git mirrors to fill DIR from first")
    parser.add_argument("--split", action="append", help="only these splits (repeatable)")
    args = parser.parse_args()
    items = [e for e in entries(args.data) if not args.split or e.split in args.split]
    if args.mirrors:
        fill_from_mirrors(items, args.corpus, args.mirrors)
    here = [e for e in items if (args.corpus / e.name / ".gitlab-ci.yml").is_file()]
    outcomes = [judge(entry, args.corpus) for entry in here]
    sys.stdout.write(report(outcomes))
    missing = [e.name for e in items if e not in here]
    if missing:
        sys.stdout.write(f"\nnot run (no local copy in {args.corpus}): {', '.join(missing)}\n")


if __name__ == "__main__":
    main()
