"""Which uvci the generated cells run: only one pinned by hash, never a name an index resolves.

The name ``uvci`` on an index vouches for nothing (whoever registers it would run in every cell
that fills its wheelhouse), so ``--uvci-spec`` must be one of:

- ``release``: ``uvci==X.Y.Z``, locked with its dependencies' hashes in ``.gitlab/ci/uvci-tool``
  by ``uvci generate`` (:mod:`.toolenv`); the cells install that lock, ``--require-hashes``;
- ``url``: ``uvci @ https://…/uvci-X.Y.Z-py3-none-any.whl#sha256=<64 hex>``, a wheel you host
  (docs/release.md); the cells install it with ``uv pip install -r``, which checks the
  fragment's hash (``uvx --from`` does not: uv 0.13 ignores a URL's hash fragment there);
- ``checkout``: a directory of the project that is uvci itself (uvci's own pipeline,
  ``--uvci-spec .``): the code of the commit under test, as trusted as the checkout.

Anything else is refused with one line naming the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement

from uvci.errors import FatalError
from uvci.gitlab.generate.toolenv import lockable
from uvci.model.project import load_project

SpecKind = Literal["release", "url", "checkout"]
HASHED_URL = re.compile(r"uvci @ https?://[^\s#]+#sha256=[0-9a-f]{64}")
EXAMPLE_URL = "'uvci @ https://…/uvci-X.Y.Z-py3-none-any.whl#sha256=…'"
FIX = (
    f"give a released uvci==X.Y.Z the index serves (locked with hashes), --uvci-spec "
    f"{EXAMPLE_URL} for a wheel you host (docs/release.md), or --uvci-spec . in uvci's own "
    "checkout"
)


def spec_kind(spec: str, root: Path) -> SpecKind:
    """How the cells install ``spec``; a :class:`FatalError` when it is not pinned by hash."""
    if lockable(spec):
        return "release"
    if HASHED_URL.fullmatch(spec):
        return "url"
    if _is_uvci_checkout(spec, root):
        return "checkout"
    raise FatalError(f"--uvci-spec {spec!r}: not pinned by hash, so the cells would run "
                     f"whatever an index serves under that name; {FIX}")  # fmt: skip


def _is_uvci_checkout(spec: str, root: Path) -> bool:
    """True for a path inside the project whose pyproject.toml is uvci's."""
    try:
        Requirement(spec)
        return False  # a requirement (a name, a URL without its hash), not a path
    except InvalidRequirement:
        pass
    if spec.startswith("/") or "://" in spec:
        return False
    base = root.resolve()
    directory = (base / spec).resolve()
    if directory != base and base not in directory.parents:
        return False
    try:
        return (directory / "pyproject.toml").is_file() and load_project(directory).name == "uvci"
    except (FatalError, OSError):
        return False


def unlockable(spec: str, reason: str, unreleased: str | None) -> FatalError:
    """The refusal when ``uv lock`` cannot lock the release ``spec`` (``reason``)."""
    why = f"; this uvci is not a released version ({unreleased})" if unreleased else ""
    return FatalError(
        f"--uvci-spec {spec}: cannot lock it with hashes in .gitlab/ci/uvci-tool ({reason}{why}), "
        f"and the cells run uvci only pinned by hash; {FIX}"
    )
