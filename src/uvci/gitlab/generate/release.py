"""Whether the running uvci is a released version, as the generated pipeline assumes.

The pipeline's cells run the default ``--uvci-spec uvci==VERSION`` only as a lock beside the
pipeline, which uv can write only for a version published on the package index; ``uvci
generate`` names this reason when it cannot. A uvci run from a source tree, an editable
install or a wheel file (PEP 610 ``direct_url.json``), or a development, pre-release or local
version, is not one that the index can be assumed to have.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, distribution

from packaging.version import InvalidVersion, Version


def unreleased_reason(name: str = "uvci") -> str | None:
    """Why the installed ``name`` is not a release from an index, or None when it may be one."""
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return "not installed (run from a source tree)"
    try:
        version = Version(dist.version)
    except InvalidVersion:
        return f"version {dist.version!r} is not a valid version"
    if version.is_devrelease or version.is_prerelease or version.local:
        return f"version {version} is a development, pre-release or local version"
    direct = dist.read_text("direct_url.json")
    if direct:
        try:
            url = str(json.loads(direct).get("url", "?"))
        except (ValueError, AttributeError):
            url = "?"
        return f"installed from {url}, not from a package index"
    return None
