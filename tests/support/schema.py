"""Validate GitLab CI YAML against GitLab's own CI schema (check-jsonschema's vendored copy).

    from tests.support.schema import gitlab_ci_errors
    assert gitlab_ci_errors(Path(".gitlab-ci.yml")) == []
    assert gitlab_ci_errors("test:\\n  script: [uv sync]\\n") == []

Works offline (the schema ships with check-jsonschema). Each YAML document is checked on its
own, so a ``spec:`` header followed by ``---`` and the jobs is fine; ``!reference [...]`` tags
are checked as the plain lists they are written as. A YAML syntax error is returned as an
error, not raised.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from uvci.errors import FatalError
from uvci.gitlab.yaml import roundtrip
from uvci.util.uvproc import cmd_output


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if node is None or isinstance(node, (bool, int, float)):
        return node
    return str(node)


def gitlab_ci_errors(source: Path | str) -> list[str]:
    """Schema errors of a pipeline file (Path) or YAML text (str); ``[]`` when valid."""
    path = source if isinstance(source, Path) else Path("<text>.gitlab-ci.yml")
    try:
        doc = (
            roundtrip.load_file(source)
            if isinstance(source, Path)
            else roundtrip.loads(source, path)
        )
    except FatalError as exc:
        return [exc.message]
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="uvci-schema-") as tmp:
        for number, document in enumerate(doc.documents):
            target = Path(tmp) / f"document-{number}.json"
            target.write_text(json.dumps(_plain(document)))
            errors += _check(target, f"{path} (document {number + 1})")
    return errors


def _check(target: Path, shown: str) -> list[str]:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci"]
    rc, out, err = cmd_output([*argv, "-o", "json", str(target)], timeout=120)
    if rc == 0:
        return []
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return [f"{shown}: check-jsonschema failed (rc {rc}): {err.strip() or out.strip()}"]
    found = [
        f"{shown}: {e.get('best_deep_match', e).get('path', e['path'])}: "
        f"{e.get('best_deep_match', e).get('message', e['message'])}"
        for e in report.get("errors", [])
    ]
    return found + [f"{shown}: {p}" for p in report.get("parse_errors", [])]
