"""What `uv run uvci ...` in this repository installs (the README's first command): uvci's
runtime dependencies only; the tests and benchmarks ask for their groups themselves."""

from __future__ import annotations

import re
from pathlib import Path

from uvci.util.uvproc import run_uv

REPO = Path(__file__).resolve().parents[2]


def exported(*flags: str) -> set[str]:
    """The package names ``uv export --frozen FLAGS`` lists for this repository."""
    args = ["export", "--frozen", "--no-hashes", "--no-header", "--no-annotate", *flags]
    rc, out, err = run_uv(args, cwd=REPO)
    assert rc == 0, err
    return {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9._-]+)==", out, re.M)}


def test_the_default_install_is_the_runtime_dependencies() -> None:
    default, runtime = exported(), exported("--no-default-groups")
    assert default == runtime
    assert {"rich", "packaging"} <= runtime and not {"pytest", "matplotlib"} & runtime


def test_the_test_and_ci_commands_ask_for_the_groups() -> None:
    assert "pytest" in exported("--all-groups") and "matplotlib" in exported("--all-groups")
    assert 'uv run --locked --all-groups --python "$p"' in (REPO / "scripts" / "test").read_text()
    assert "uv sync --locked --all-groups" in (REPO / ".gitlab-ci.yml").read_text()
