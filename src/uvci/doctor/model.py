"""What doctor reports: rules, findings and the edits that fix them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uvci.gitlab.read.nodes import Loc

if TYPE_CHECKING:
    from uvci.doctor.context import Context


class Severity(str, Enum):
    """GitLab Code Quality severities (the ones doctor uses)."""

    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Edit:
    """One change to a YAML node.

    ``set``: ``container[key] = value``; ``delete``: remove ``container[key]``;
    ``global_var``: add variable ``key`` = ``value`` to the top-level ``variables:`` of
    ``path`` (``container`` unused).
    """

    op: str
    path: Path
    container: Any
    key: Any
    value: Any = None
    text: str = ""  # what the edit does, for the report
    lock_dir: Path | None = None  # applied only when this directory's uv.lock is up to date


@dataclass(frozen=True)
class Finding:
    """One problem at one place; its severity is its rule's (one source: the catalog)."""

    rule: str
    message: str
    loc: Loc
    jobs: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = field(default=(), compare=False)
    advice: str = ""  # how to fix when there is no automatic edit

    @property
    def severity(self) -> Severity:
        from uvci.doctor.catalog import BY_ID  # the catalog imports the rules, which import us

        return BY_ID[self.rule].severity


@dataclass(frozen=True)
class Rule:
    """A check with a stable id and the texts ``--explain`` and docs/rules.md show."""

    id: str
    title: str
    severity: Severity
    explanation: str
    cost: str
    fix: str
    check: Callable[[Context], Iterable[Finding]]
