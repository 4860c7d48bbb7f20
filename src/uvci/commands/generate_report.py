"""What `uvci generate` says about what it wrote: the cells, the builds, the bytes per cell."""

from __future__ import annotations

import sys

from uvci.gitlab.generate.pipeline import GenerateOptions, LocalBuilds
from uvci.model.groupcost import cell_bytes, cheaper_test_group, describe_selection
from uvci.model.plan import Plan
from uvci.util.units import megabytes


def report(plan: Plan, opts: GenerateOptions, builds: LocalBuilds) -> None:
    layout = opts.layout or plan.layout
    print(
        f"uvci generate: {len(plan.cells)} cells (Python {', '.join(plan.pythons)}), "
        f"{layout} wheelhouse, uv {opts.uv_version}, cells fill it with {opts.uvci_spec}",
        file=sys.stderr,
    )
    where = "once in uvci-build" if opts.build_once else "in every cell"
    for reason in builds.reasons:
        print(f"uvci generate: {reason}; built {where}", file=sys.stderr)


def report_bytes(plan: Plan) -> None:
    """The bytes each cell downloads for the selection written, and a much cheaper test group."""
    cells = ", ".join(f"{python} {megabytes(size)}" for python, size in cell_bytes(plan))
    selection = describe_selection(plan.selection)
    print(f"uvci generate: per cell ({selection}): {cells}", file=sys.stderr)
    hint = cheaper_test_group(plan)
    if hint is not None:
        print(f"uvci generate: note: the default groups cost {megabytes(hint.default_bytes)} a "
              f"cell, the {hint.group!r} group alone {megabytes(hint.bytes)}: if it holds what "
              f"the tests need, regenerate with {' '.join(hint.flags)}",
              file=sys.stderr)  # fmt: skip
