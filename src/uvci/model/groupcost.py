"""What a cell of the selection costs, and whether a ``test``/``tests`` group alone costs much
less: a project's ``default-groups`` often carry its dev tools (type checkers, linters, tox),
which a test cell downloads and caches for nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from uvci.model.plan import Plan, plan_cells
from uvci.model.selection import Selection

TEST_GROUPS = ("test", "tests")
MUCH_MORE = 2.0  # the default groups cost at least this many times the test group's bytes


@dataclass(frozen=True)
class GroupHint:
    """The test group's selection, its flags and its largest cell's bytes."""

    group: str
    flags: tuple[str, ...]
    bytes: int
    default_bytes: int


def cell_bytes(plan: Plan) -> tuple[tuple[str, int], ...]:
    """``(python, bytes it downloads)`` per cell."""
    return tuple((cell.python, cell.download_bytes) for cell in plan.cells)


def cheaper_test_group(plan: Plan) -> GroupHint | None:
    """The flags that select the test group instead of the default groups, when the plan uses
    the default groups (no group flag given), the project has such a group and the default
    groups cost at least :data:`MUCH_MORE` times as much; else None."""
    selection = plan.selection
    chosen = (selection.groups, selection.only_groups, selection.all_groups,
              selection.no_default_groups, selection.no_dev)  # fmt: skip
    group = next((g for g in TEST_GROUPS if g in plan.project.groups), None)
    if group is None or any(chosen) or not plan.cells:
        return None
    narrow = dataclasses.replace(selection, no_default_groups=True, groups=(group,))
    alternative = plan_cells(dataclasses.replace(plan, selection=narrow), plan.pythons)
    wide = max(b for _, b in cell_bytes(plan))
    small = max(b for _, b in cell_bytes(alternative))
    if wide < MUCH_MORE * max(small, 1):
        return None
    flags = ("--no-default-groups", "--group", group)
    return GroupHint(group, flags, small, wide)


def describe_selection(selection: Selection) -> str:
    flags = selection.uv_args()
    return " ".join(flags) if flags else "uv sync's defaults"
