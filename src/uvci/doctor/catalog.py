"""Every doctor rule, in id order: the one registry.

Each rule (stable id, title, severity, explanation, cost, fix) is written beside its check in
a ``rules_*`` module; findings take their severity from it, and docs/rules.md is generated
from it (:mod:`uvci.doctor.docs`).
"""

from __future__ import annotations

from uvci.doctor import (
    rules_cache,
    rules_commands,
    rules_duplicates,
    rules_images,
    rules_install,
    rules_keys,
    rules_lock,
    rules_patterns,
    rules_python,
    rules_refresh,
)
from uvci.doctor.model import Rule
from uvci.errors import FatalError

_MODULES = (
    rules_cache,
    rules_keys,
    rules_install,
    rules_python,
    rules_refresh,
    rules_patterns,
    rules_commands,
    rules_images,
    rules_lock,
    rules_duplicates,
)
RULES: tuple[Rule, ...] = tuple(sorted((r for m in _MODULES for r in m.RULES), key=lambda r: r.id))
BY_ID = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with ``rule_id`` (case-insensitive); FatalError naming the valid ids."""
    found = BY_ID.get(rule_id.upper())
    if found is None:
        raise FatalError(f"unknown rule {rule_id!r}; rules are {RULES[0].id}..{RULES[-1].id}")
    return found
