"""A job that duplicates uvci's test matrix (UVC025): the same tests, twice a pipeline."""

from __future__ import annotations

from collections.abc import Iterator

from uvci.doctor import edits
from uvci.doctor.context import Context
from uvci.doctor.model import Finding, Rule, Severity
from uvci.doctor.replaced import matrix_pythons, replaced_jobs


def uvc024(ctx: Context) -> Iterator[Finding]:
    pythons = matrix_pythons(ctx)
    if not pythons:
        return  # uvci's pipeline is not included: the job is the project's only test job
    for job in replaced_jobs(ctx, pythons):
        carry = f"; carry over its {', '.join(job.also)} first" if job.also else ""
        yield Finding(
            "UVC025",
            f"job `{job.name}` runs the project's tests on Python {', '.join(job.pythons)}, "
            f"which uvci-test already tests{carry}",
            job.loc,
            (job.name,),
            edits=(edits.delete_item(ctx, (job.container, job.name), f"remove job {job.name}"),),
            advice="remove it (`uvci generate --replace` or `uvci doctor --fix`)",
        )


UVC025 = Rule(
    "UVC025",
    "a job duplicates uvci-test",
    Severity.MINOR,
    "The pipeline includes uvci's generated test matrix (`uvci-test`), and another job "
    "installs the project with uv or pip and runs its tests (pytest, `uv run pytest`, "
    "`python -m pytest`, `python -m unittest`) on a Python the matrix tests too: typically the "
    "hand-written test "
    "jobs the matrix was generated to replace. A job on a Python outside the matrix, or whose "
    "Python cannot be told, is left alone.",
    "The same install and test run twice per pipeline, on a runner each, and two results to "
    "keep in step.",
    "Remove the job: `uvci generate --replace` (or `uvci doctor --fix`) deletes it from its "
    "file, keeping comments and every other key. Carry over what only it did: "
    "`--coverage` for a coverage report, `--system-packages` for packages it installed, and "
    "`services:`, `variables:`, `tags:` or `rules:` under a `uvci-test:` key in "
    '.gitlab-ci.yml (docs/pipeline.md, "Extending uvci-test").',
    uvc024,
)
RULES: tuple[Rule, ...] = (UVC025,)
