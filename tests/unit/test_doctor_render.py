"""Rule catalog, --explain, docs/rules.md and the three report formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uvci.doctor import render
from uvci.doctor.catalog import BY_ID, RULES, rule
from uvci.doctor.docs import rules_markdown
from uvci.doctor.engine import check
from uvci.errors import FatalError

REPO = Path(__file__).parents[2]
DATA = REPO / "tests" / "data" / "pipelines"


def test_catalog_has_the_rules_in_order_with_texts() -> None:
    assert [r.id for r in RULES] == [f"UVC{n:03d}" for n in range(1, len(RULES) + 1)]
    assert len(RULES) >= 14
    assert len(BY_ID) == len(RULES)
    for r in RULES:
        for text in (r.title, r.explanation, r.cost, r.fix):
            assert text.strip() and not text.startswith(" "), r.id


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_explain(rule_id: str) -> None:
    text = render.explain(rule(rule_id.lower()))
    assert text.startswith(f"{rule_id}: {BY_ID[rule_id].title} (severity ")
    assert "\nCost: " in text and "\nFix: " in text


def test_unknown_rule_is_fatal() -> None:
    with pytest.raises(FatalError, match="unknown rule 'UVC000'"):
        rule("UVC000")


def test_docs_rules_md_is_generated_from_the_catalog() -> None:
    assert (REPO / "docs" / "rules.md").read_text() == rules_markdown(), (
        "regenerate: uv run python -m uvci.doctor.docs > docs/rules.md"
    )


def test_text_groups_by_job_and_orders_by_severity(monkeypatch: pytest.MonkeyPatch) -> None:
    case = DATA / "positive" / "UVC009-curl-installer"
    monkeypatch.chdir(case)
    text = render.render_text(check(case))
    lines = text.splitlines()
    assert lines[0] == ".gitlab-ci.yml: 1 job, 1 run uv (no pyproject.toml, no uv.lock): 3 findings"
    assert lines[2] == "test"
    heads = [ln for ln in lines if ln.startswith("  .gitlab-ci.yml:")]
    assert heads == [
        f"  .gitlab-ci.yml:1  major  UVC001 {BY_ID['UVC001'].title}",
        f"  .gitlab-ci.yml:4  minor  UVC009 {BY_ID['UVC009'].title}",
        f"  .gitlab-ci.yml:5  minor  UVC019 {BY_ID['UVC019'].title}",
    ]


def test_not_checked_includes_are_named(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(
        "include:\n  - template: Python.gitlab-ci.yml\ntest:\n  script: [echo]\n"
    )
    report = check(tmp_path)
    assert "not checked: include template: Python.gitlab-ci.yml" in render.render_text(report)
    data = json.loads(render.render_json(report))
    assert data["not_checked"] == [
        {"include": "template: Python.gitlab-ci.yml", "path": ".gitlab-ci.yml", "line": 2}
    ]
    assert data["findings"] == [] and json.loads(render.render_codeclimate(report)) == []


def test_readme_shows_the_real_seed_report(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = DATA / "positive" / "seed-uv-issue-14495"
    monkeypatch.chdir(seed)
    readme = (REPO / "README.md").read_text()
    block = readme.split("$ uvci doctor\n", 1)[1].split("```", 1)[0]
    assert block == render.render_text(check(seed))
