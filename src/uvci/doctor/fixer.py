"""Apply findings' edits to the round-trip YAML and show them as a unified diff.

Edits change the original ruamel nodes (so a fix to a template fixes every job that extends
it), then each changed file is serialised with :mod:`uvci.gitlab.yaml.roundtrip`, which keeps
comments, anchors, key order and ``!reference`` tags. Files are written atomically.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from uvci.doctor.lockcheck import why_not_fresh
from uvci.doctor.model import Edit, Finding
from uvci.gitlab.read.pipeline import Pipeline
from uvci.gitlab.yaml import roundtrip
from uvci.util.atomicfile import write_atomic

_VARIABLES_AFTER = ("spec", "include", "workflow", "stages")


@dataclass(frozen=True)
class FileChange:
    path: Path
    before: str
    after: str

    def diff(self, shown: str) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{shown}",
            tofile=f"b/{shown}",
        )
        return "".join(lines)


def plan_fixes(
    pipeline: Pipeline, findings: Iterable[Finding], notes: list[str] | None = None
) -> list[FileChange]:
    """Apply every edit of ``findings`` in memory; the files that changed, before and after.

    ``pipeline`` must have been read with ``round_trip=True`` (``check(..., for_fix=True)``).
    Edits that need an up-to-date uv.lock are left out when it is not, with the reason
    appended to ``notes``.
    """
    edits = _trusted(_unique(edit for finding in findings for edit in finding.edits), notes)
    touched: dict[Path, roundtrip.YamlDocument] = {}
    for edit in sorted(edits, key=_order):
        doc = pipeline.document_for(edit.path)
        if _apply(doc, edit):
            touched[doc.path] = doc
    changes = [FileChange(path, doc.text, roundtrip.dumps(doc)) for path, doc in touched.items()]
    return [change for change in changes if change.before != change.after]


def write(changes: Iterable[FileChange]) -> None:
    for change in changes:
        write_atomic(change.path, change.after)


def _trusted(edits: list[Edit], notes: list[str] | None) -> list[Edit]:
    kept = []
    for edit in edits:
        reason = why_not_fresh(edit.lock_dir) if edit.lock_dir is not None else None
        if reason is None:
            kept.append(edit)
        elif notes is not None and (line := f"not fixed: {edit.text}: {reason}") not in notes:
            notes.append(line)
    return kept


def _unique(edits: Iterable[Edit]) -> list[Edit]:
    seen: dict[tuple[str, int, str, str], Edit] = {}
    for edit in edits:
        seen.setdefault((edit.op, id(edit.container), str(edit.key), str(edit.path)), edit)
    return list(seen.values())


def _order(edit: Edit) -> tuple[int, int]:
    # deletions last, highest index first, so earlier indexes stay valid
    index = edit.key if isinstance(edit.key, int) else 0
    return (1, -index) if edit.op == "delete" else (0, 0)


def _apply(doc: roundtrip.YamlDocument, edit: Edit) -> bool:
    if edit.op == "global_var":
        return _add_global_variable(doc, str(edit.key), edit.value)
    if _interpolated(edit):
        return False  # the value comes from `$[[ inputs.X ]]`: the fix belongs to the input
    if edit.op == "delete" and edit.container is doc.config:
        roundtrip.remove_block(edit.container, edit.key)  # a whole job: keep the comments around
        return True
    if edit.op == "delete":
        del edit.container[edit.key]
        return True
    _keep_comment_gap(edit)
    edit.container[edit.key] = edit.value
    return True


def _keep_comment_gap(edit: Edit) -> None:
    """Move an end-of-line comment right by what the new text adds, so the spaces before it
    stay as they were (ruamel would leave one)."""
    try:
        old = edit.container[edit.key]
    except (KeyError, IndexError, TypeError):
        return  # a new key: no comment to keep
    items = getattr(getattr(edit.container, "ca", None), "items", {})
    token = (items.get(edit.key) or [None])[0]
    if isinstance(old, str) and isinstance(edit.value, str) and hasattr(token, "column"):
        token.column += max(0, len(edit.value) - len(old))


def _interpolated(edit: Edit) -> bool:
    try:
        current = edit.container[edit.key]
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(current, str) and "$[[" in current


def _add_global_variable(doc: roundtrip.YamlDocument, name: str, value: Any) -> bool:
    config = doc.config
    variables = config.get("variables")
    if variables is None:
        block = CommentedMap()
        block[name] = DoubleQuotedScalarString(value)
        position = max((i + 1 for i, k in enumerate(config) if k in _VARIABLES_AFTER), default=0)
        roundtrip.insert_block(config, position, "variables", block)
        return True
    if not isinstance(variables, CommentedMap) or name in variables:
        return False
    roundtrip.append_key(variables, name, DoubleQuotedScalarString(value))
    return True
