"""The jobs `uvci generate` replaces: named in a note, or removed with --replace (a diff shown).

The finding is doctor's (:mod:`uvci.doctor.replaced`, rule UVC025): the same jobs either way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from uvci.doctor.context import Context
from uvci.doctor.fixer import FileChange
from uvci.doctor.replaced import Replaced, describe, replaced_jobs
from uvci.errors import FatalError
from uvci.gitlab.read.pipeline import Pipeline, read_pipeline
from uvci.gitlab.yaml import roundtrip
from uvci.util.atomicfile import write_atomic


@dataclass(frozen=True)
class Found:
    """The pipeline as read (round-trip, so it can be edited) and the jobs the matrix replaces."""

    pipeline: Pipeline
    jobs: tuple[Replaced, ...]


def find(root: Path, pythons: tuple[str, ...]) -> Found | None:
    """The jobs of ``root``'s .gitlab-ci.yml (and its local includes) a matrix over ``pythons``
    replaces; None when there is no pipeline, or doctor's reader cannot read it (a note)."""
    if not (root / ".gitlab-ci.yml").is_file():
        return None
    try:
        pipeline = read_pipeline(root, round_trip=True)
    except FatalError as exc:
        print(f"uvci generate: note: not looking for test jobs the matrix replaces: {exc}",
              file=sys.stderr)  # fmt: skip
        return None
    jobs = replaced_jobs(Context(pipeline, None, None, False), pythons)
    return Found(pipeline, tuple(jobs))


def name_them(found: Found | None) -> None:
    """Without --replace: a note naming the jobs that duplicate uvci-test, and the flag."""
    if found is None or not found.jobs:
        return
    print(f"uvci generate: note: uvci-test replaces {len(found.jobs)} job(s) of this pipeline "
          "(the same tests on the same Pythons); pass --replace to remove them (a diff is "
          "shown), or remove them yourself:", file=sys.stderr)  # fmt: skip
    for job in found.jobs:
        print(f"  {describe(job)}", file=sys.stderr)


def remove(found: Found) -> dict[Path, roundtrip.YamlDocument]:
    """Delete the jobs from their documents, in memory; the documents changed, by path."""
    changed: dict[Path, roundtrip.YamlDocument] = {}
    for job in found.jobs:
        doc = found.pipeline.document_for(job.loc.path)
        if job.container is not doc.config or job.name not in doc.config:
            note = f"{job.name} ({job.loc}) is not a key as written (an input?)"
            print(f"uvci generate: note: {note}: remove it yourself", file=sys.stderr)
            continue
        roundtrip.remove_block(doc.config, job.name)
        changed[doc.path] = doc
    return changed


def write_removed(changed: dict[Path, roundtrip.YamlDocument], root_text: str | None,
                  root: Path, jobs: tuple[Replaced, ...]) -> None:  # fmt: skip
    """Show the diff of each file and write it; ``root_text``: the new .gitlab-ci.yml (the
    include added as well), written by the caller."""
    for path, doc in changed.items():
        after = root_text if path == root and root_text is not None else roundtrip.dumps(doc)
        shown = (
            path.relative_to(root.parent).as_posix()
            if path.is_relative_to(root.parent)
            else str(path)
        )
        sys.stderr.write(FileChange(path, doc.text, after).diff(shown))
        if path != root:
            write_atomic(path, after)
    removed = [j.name for j in jobs if j.loc.path in changed
               and j.name not in changed[j.loc.path].config]  # fmt: skip
    print(f"uvci generate: removed {len(removed)} job(s) uvci-test replaces: "
          f"{', '.join(removed)}", file=sys.stderr)  # fmt: skip


def note_orphan_keys(found: Found | None, generated: list[str]) -> None:
    """A note when .gitlab-ci.yml has keys for a uvci job this pipeline does not have (they
    would make a job of their own, with no script): e.g. ``uvci-test:`` with one Python,
    whose only job is ``uvci-test-writer`` (the shared layout)."""
    if found is None:
        return
    config = found.pipeline.document_for(found.pipeline.root).config
    keys = [str(k) for k in config if str(k).startswith("uvci-")] if hasattr(config, "keys") else []
    for key in (k for k in keys if k not in generated):
        have = ", ".join(j for j in generated if not j.startswith(".")) or "no job"
        print(f"uvci generate: note: .gitlab-ci.yml sets keys for {key}, which this pipeline "
              f"does not have (its jobs: {have}): GitLab would make it a job of its own, with "
              "no script; move them under the job they are for, or pass --layout per-cell "
              "(then the matrix is uvci-test)", file=sys.stderr)  # fmt: skip
