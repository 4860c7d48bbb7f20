"""The layer contract of ``src/uvci``: which package may import which.

    python scripts/check_layers.py [SRC_DIR]     # exit 1 and one line per violation

Lower layers never import higher ones. Every module-level *and* function-level ``import`` of a
``uvci`` module counts (a lazy import is still a dependency). ``from uvci import __version__``
is allowed everywhere. The layers, lowest first:

    errors, util       no I/O layer below them
    model              the project, the lock, the plan: pure computation
    planning           reads the files, asks uv whether the lock is fresh, plans
    wheelhouse         fetching, verifying, building wheels
    gitlab.yaml        YAML I/O
    gitlab.read        a user's pipeline as GitLab reads it
    gitlab.generate    uvci's pipeline: never the runner, never the wheelhouse
    runner             `uvci run`
    doctor             `uvci doctor`
    commands, cli      argv in, one subcommand each
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

BASE = ("uvci.errors", "uvci.util")
ALLOWED: dict[str, tuple[str, ...]] = {
    "uvci.errors": (),
    "uvci.util": BASE,
    "uvci.model": (*BASE, "uvci.model"),
    "uvci.planning": (*BASE, "uvci.model"),
    "uvci.wheelhouse": (*BASE, "uvci.model", "uvci.wheelhouse"),
    "uvci.gitlab.yaml": (*BASE, "uvci.gitlab.yaml"),
    "uvci.gitlab.read": (*BASE, "uvci.gitlab.yaml", "uvci.gitlab.read"),
    "uvci.gitlab.generate": (*BASE, "uvci.model", "uvci.gitlab.yaml", "uvci.gitlab.generate"),
    "uvci.runner": (*BASE, "uvci.model", "uvci.planning", "uvci.wheelhouse", "uvci.runner"),
    "uvci.doctor": (*BASE, "uvci.model", "uvci.planning", "uvci.gitlab", "uvci.doctor"),
    "uvci.commands": ("uvci",),
    "uvci.cli": (*BASE, "uvci.commands"),
    "uvci.__main__": ("uvci.cli",),
    "uvci": (),
}
EVERYWHERE = ("uvci",)  # `from uvci import __version__`


def module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The most specific layer that contains ``module``."""
    matches = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every ``uvci`` import in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from _from_names(node)


def _from_names(node: ast.ImportFrom) -> Iterator[tuple[int, str]]:
    module = node.module or ""
    if module == "uvci":  # `from uvci import __version__` or `from uvci import submodule`
        for alias in node.names:
            yield node.lineno, "uvci" if alias.name.startswith("__") else f"uvci.{alias.name}"
    else:
        yield node.lineno, module


def allowed(importer: str, imported: str) -> bool:
    if imported in EVERYWHERE or imported.split(".")[0] != "uvci":
        return True
    targets = ALLOWED[layer_of(importer)]
    return any(imported == t or imported.startswith(t + ".") for t in targets)


def violations(src: Path) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.py")):
        importer = module_name(src.parent, path)
        for line, imported in imports(path):
            if not allowed(importer, imported):
                layer = layer_of(importer)
                rel = path.relative_to(src.parent.parent)
                found.append(f"{rel}:{line}: {layer} must not import {imported}")
    return found


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "src" / "uvci"
    found = violations(src)
    for line in found:
        print(line)
    print(f"layers: {len(found)} violation(s) in {src}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
