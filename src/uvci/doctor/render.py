"""Doctor reports as text (grouped by job), JSON, or a GitLab Code Quality report."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

from uvci.doctor.catalog import BY_ID
from uvci.doctor.engine import Report
from uvci.doctor.model import Finding, Rule, Severity

FORMATS = ("text", "json", "codeclimate")
_RANK = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.INFO: 3}


def shown_path(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the working directory) when it is inside it."""
    base = (base or Path.cwd()).resolve()
    resolved = path.resolve()
    return str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(path)


def where(finding: Finding, base: Path | None = None) -> str:
    shown = shown_path(finding.loc.path, base)
    return f"{shown}:{finding.loc.line}" if finding.loc.line else shown


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "codeclimate":
        return render_codeclimate(report)
    return render_text(report)


def _jobs_label(jobs: tuple[str, ...]) -> str:
    if not jobs:
        return "(pipeline)"
    if len(jobs) > 4:
        return f"{', '.join(jobs[:3])}, … ({len(jobs)} jobs)"
    return ", ".join(jobs)


def render_text(report: Report) -> str:
    lines = [_headline(report)]
    for text, loc in report.not_checked:
        lines.append(f"  not checked: include {text} ({shown_path(loc.path)}:{loc.line})")
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding in report.findings:
        groups.setdefault(finding.jobs, []).append(finding)
    for jobs, findings in groups.items():
        lines += ["", _jobs_label(jobs)]
        for finding in sorted(findings, key=lambda f: (_RANK[f.severity], f.loc.line, f.rule)):
            lines += _text_finding(finding, BY_ID[finding.rule])
    if report.findings:
        lines += ["", "`uvci doctor --explain UVCxxx` explains a rule; `--fix` applies the fixes"]
    return "\n".join(lines) + "\n"


def _headline(report: Report) -> str:
    pipeline = report.pipeline
    project = "pyproject.toml" if report.project else "no pyproject.toml"
    lock = "uv.lock" if report.has_lock else "no uv.lock"
    count = len(report.findings)
    verdict = _count(count, "finding") if count else "no findings"
    return (
        f"{shown_path(pipeline.root)}: {_count(report.jobs, 'job')}, "
        f"{report.uv_jobs} run uv "
        f"({project}, {lock}): {verdict}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def _text_finding(finding: Finding, rule: Rule) -> list[str]:
    head = f"  {where(finding)}  {finding.severity.value}  {finding.rule} {rule.title}"
    body = textwrap.wrap(finding.message, 92, initial_indent="    ", subsequent_indent="    ")
    if finding.edits:
        fix = "fix: " + "; ".join(dict.fromkeys(e.text for e in finding.edits)) + " (--fix)"
    else:
        fix = "fix: " + (finding.advice or rule.fix)
    wrapped = textwrap.wrap(fix, 92, initial_indent="    ", subsequent_indent="      ")
    return [head, *body, *wrapped]


def finding_dict(finding: Finding, base: Path) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "title": BY_ID[finding.rule].title,
        "severity": finding.severity.value,
        "message": finding.message,
        "path": shown_path(finding.loc.path, base),
        "line": finding.loc.line,
        "jobs": list(finding.jobs),
        "fixable": bool(finding.edits),
        "fixes": list(dict.fromkeys(edit.text for edit in finding.edits)),
        "fix": finding.advice or BY_ID[finding.rule].fix,
    }


def render_json(report: Report) -> str:
    base = report.pipeline.project_dir
    counts = {s.value: sum(f.severity is s for f in report.findings) for s in Severity}
    data = {
        "pipeline": shown_path(report.pipeline.root, base),
        "jobs": report.jobs,
        "uv_jobs": report.uv_jobs,
        "findings": [finding_dict(f, base) for f in report.findings],
        "not_checked": [
            {"include": text, "path": shown_path(loc.path, base), "line": loc.line}
            for text, loc in report.not_checked
        ],
        "summary": counts,
    }
    return json.dumps(data, indent=2) + "\n"


# Code Quality categories: rules about what gets tested are correctness risks, the rest cost time.
BUG_RISK_RULES = frozenset({"UVC007", "UVC010", "UVC011"})


def render_codeclimate(report: Report) -> str:
    """GitLab Code Quality (Code Climate subset): paths relative to the project root."""
    base = report.pipeline.project_dir
    issues = []
    for finding in report.findings:
        path = shown_path(finding.loc.path, base)
        seed = f"{finding.rule}|{path}|{finding.loc.line}|{finding.message}"
        issues.append(
            {
                "type": "issue",
                "check_name": finding.rule,
                "description": f"{finding.rule} {finding.message}",
                "categories": ["Bug Risk" if finding.rule in BUG_RISK_RULES else "Performance"],
                "severity": finding.severity.value,
                "fingerprint": hashlib.sha256(seed.encode()).hexdigest()[:32],
                "location": {"path": path, "lines": {"begin": max(finding.loc.line, 1)}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"


def explain(rule: Rule) -> str:
    parts = [
        f"{rule.id}: {rule.title} (severity {rule.severity.value})",
        "",
        textwrap.fill(rule.explanation, 92),
        "",
        textwrap.fill("Cost: " + rule.cost, 92),
        "",
        textwrap.fill("Fix: " + rule.fix, 92),
    ]
    return "\n".join(parts) + "\n"
