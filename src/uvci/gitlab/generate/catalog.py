"""The generic CI/CD catalog component: ``templates/uvci/template.yml``, for every project.

The same jobs as ``uvci generate`` writes (:func:`uvci.gitlab.generate.pipeline.build_jobs`), with
what the generator takes from a project's plan turned into ``spec: inputs:``: the Pythons (an
array, the matrix's PYTHON list), the ``uv sync`` selection flags, the test command, the
project's directory, the stage, uv's image version, the uvci the cells run and the wheelhouse's
retention. The layout is per cell: each cell plans its own files (``uvci prefetch --python
$PYTHON --cell $PYTHON``), so no input needs the whole matrix as one string.

What the template cannot know, and ``uvci generate`` handles: a build backend other than
uv_build (the generator locks it with hashes, ``.gitlab/ci/uvci-build``; the template's cells
build offline with no backend but uv's own), the shared layout, ``--build-once``, other
platforms. The file is generated (``python -m uvci.gitlab.generate.catalog``) and checked in;
tests/unit/test_catalog.py checks that regenerating gives the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from uvci import __version__
from uvci.gitlab.generate import header
from uvci.gitlab.generate.pipeline import (
    DEFAULT_RETAIN,
    GenerateOptions,
    LocalBuilds,
    Shape,
    build_jobs,
)
from uvci.gitlab.generate.scripts import Raw
from uvci.gitlab.yaml.build import flow, mapping, quoted
from uvci.model.project import IMAGED_AS_OF, default_pythons
from uvci.util.atomicfile import write_atomic
from uvci.util.uvproc import uv_version

TEMPLATE = Path("templates") / "uvci" / "template.yml"
REGENERATE = "python -m uvci.gitlab.generate.catalog  # in uvci's repository"
# the default matrix of plan/generate/run on the day the image table was read (a fixed date: the
# checked-in file must not change by itself; tests/unit/test_catalog.py compares it with today's)
DEFAULT_PYTHONS = default_pythons(IMAGED_AS_OF)


def _input(name: str) -> str:
    return f"$[[ inputs.{name} ]]"


def inputs() -> CommentedMap:
    def one(kind: str, default: Any, description: str) -> CommentedMap:
        items: list[tuple[str, Any]] = [] if kind == "string" else [("type", kind)]
        return mapping(*items, ("default", default), ("description", description))

    return mapping(
        ("pythons", one("array", flow(quoted(p) for p in DEFAULT_PYTHONS),
                        "the Python versions of the test matrix (one cell each)")),
        ("test-command", one("string", "pytest",
                             "a pytest command line each cell runs (uvci adds --junitxml); "
                             "pytest must be in the locked environment")),
        ("uv-sync-flags", one("string", "",
                              "uv sync selection flags, as shell words (e.g. --extra fast "
                              "--group test): what the cells install from uv.lock")),
        ("project-dir", one("string", ".", "the project's directory, built with uv_build")),
        ("stage", one("string", "test", "the stage of the test matrix")),
        # the uv that writes the template, as `uvci generate` takes the local uv: in uvci's
        # repository the tests' one uv (pyproject.toml's `uv` group pins it)
        ("uv-version", one("string", uv_version(), "the uv of the images "
                           "ghcr.io/astral-sh/uv:<uv-version>-python<X>-trixie-slim")),
        ("uvci-spec", mapping(("description",
                              "the uvci wheel the cells run to fetch what their wheelhouse "
                              "lacks, pinned by its hash: 'uvci @ https://.../uvci-X.Y.Z-py3-"
                              "none-any.whl#sha256=<64 hex>' (docs/release.md); required, "
                              "the cells refuse anything else"))),
        ("retain", one("string", DEFAULT_RETAIN,
                       "how much each wheelhouse keeps: Nx the cell's bytes, or a size")),
        ("system-packages", one("string", "",
                                "system packages each cell installs first, space-separated "
                                "(apt-get in the trixie images; not cached)")),
        ("coverage-package", one("string", "",
                                 "the package pytest-cov measures for a coverage report "
                                 "(the coverage: total and Cobertura XML); pytest-cov must be "
                                 "in the locked environment. Empty: no coverage")),
    )  # fmt: skip


def options() -> GenerateOptions:
    selection = Raw(_input("uv-sync-flags"))
    return GenerateOptions(
        uv_version=_input("uv-version"),
        uvci_spec=_input("uvci-spec"),
        plan_args=("--python", "$PYTHON", selection),
        selection=(selection,),
        test_command=_input("test-command"),
        layout="per-cell",
        test_stage=_input("stage"),
        retain=Raw(_input("retain")),
        pytest_junit=True,
        emit_stages=False,
        build_env=False,
        tool_url=True,
        system_packages=Raw(_input("system-packages")),
        coverage=Raw(_input("coverage-package")),
    )


def shape() -> Shape:
    builds = LocalBuilds((Raw(_input("project-dir")),), reasons=())
    return Shape(("$PYTHON",), builds, "per-cell", matrix_input=_input("pythons"))


def template_text() -> str:
    documents = header.component_documents(build_jobs(shape(), options()), inputs())
    return header.render(documents, __version__, REGENERATE)


def main(argv: list[str]) -> int:
    """Write the template under the directory ``argv[0]`` (default: the current directory)."""
    target = Path(argv[0] if argv else ".") / TEMPLATE
    target.parent.mkdir(parents=True, exist_ok=True)
    text = template_text()
    if target.exists() and target.read_text(encoding="utf-8") == text:
        print(f"{target} is up to date", file=sys.stderr)
        return 0
    write_atomic(target, text)
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
