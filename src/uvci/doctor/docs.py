"""docs/rules.md, generated from the rule catalog so the two cannot drift.

Regenerate with ``uv run python -m uvci.doctor.docs > docs/rules.md``; a unit test checks it.
"""

from __future__ import annotations

from uvci.doctor.catalog import RULES

HEADER = """\
# `uvci doctor` rules

`uvci doctor [PATH]` reads `.gitlab-ci.yml` and its local includes, resolves `extends:`,
`!reference`, anchors, `default:`, global `variables:`/`cache:` and `parallel: matrix` the way
GitLab does, and checks every job that runs uv (a script calling `uv`/`uvx`, or an astral uv
image) against the rules below. It also reads `pyproject.toml` and `uv.lock` when present.

- Exit codes: 0 no findings, 1 findings, 2 the pipeline could not be read (bad or hostile
  YAML, a local include outside the project, a matrix past GitLab's 200 jobs...: one line
  naming the file, the line and the fix).
- `--format text|json|codeclimate` (GitLab Code Quality), `--fix`, `--dry-run`,
  `--explain UVCxxx`, `--select UVC001,UVC003`, `--input NAME=VALUE` (for the pipeline's
  `spec: inputs`; the others take their defaults).
- Read as GitLab reads it: `$[[ inputs.X ]]` interpolated in names, keys and values, a
  repeated key takes its last value, `extends` before `!reference`, continued shell lines
  joined. Variables are expanded per job and matrix cell (`$CI_JOB_NAME_SLUG`, script
  `export`s) before paths and keys are compared; options after `uv run <program>` are the
  program's.
- `--fix` adds `--locked` only where `uv.lock` is up to date (`uv lock --check`, as `uvci plan`
  checks it); otherwise it says to run `uv lock` first and leaves the job.
- Remote, project, template and component includes are listed as not checked.

Severities follow GitLab Code Quality: *major* costs every pipeline real time or gives wrong
results, *minor* costs less or only sometimes. Examples that must trigger each rule are in
`tests/data/pipelines/positive/`, near misses that must stay clean in
`tests/data/pipelines/negative/`. How often the rules are right on real public pipelines
(recall and false findings) is in `docs/doctor-corpus.md`.
"""


def rules_markdown() -> str:
    parts = [HEADER]
    for rule in RULES:
        parts.append(
            f"\n## {rule.id}: {rule.title}\n\n"
            f"Severity: {rule.severity.value}.\n\n"
            f"{rule.explanation}\n\n"
            f"**Cost.** {rule.cost}\n\n"
            f"**Fix.** {rule.fix}\n"
        )
    return "".join(parts)


if __name__ == "__main__":
    print(rules_markdown(), end="")
