"""Read what is installed in a virtual environment, straight from its ``.dist-info`` dirs."""

from __future__ import annotations

import email.parser
import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Installed:
    name: str  # PEP 503 normalized
    version: str
    tags: tuple[str, ...]  # the ``Tag:`` lines of the dist-info WHEEL file
    local: bool  # installed from a directory (workspace member, path or editable source)

    @property
    def version_or_local(self) -> str:
        return "local" if self.local else self.version


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if len(found) != 1:
        raise AssertionError(f"expected one site-packages under {venv}, found {found}")
    return found[0]


def _is_local(info: Path) -> bool:
    direct = info / "direct_url.json"
    if not direct.is_file():
        return False
    return "dir_info" in json.loads(direct.read_text(encoding="utf-8"))


def installed(venv: Path) -> dict[str, Installed]:
    """Every distribution in ``venv`` by normalized name."""
    result: dict[str, Installed] = {}
    parser = email.parser.Parser()
    for info in site_packages(venv).glob("*.dist-info"):
        meta = parser.parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        wheel = info / "WHEEL"
        tags = (
            parser.parsestr(wheel.read_text(encoding="utf-8")).get_all("Tag", [])
            if wheel.is_file()
            else []
        )
        name = _normalize(meta["Name"])
        result[name] = Installed(name, meta["Version"], tuple(tags), _is_local(info))
    return result


def installed_versions(venv: Path) -> dict[str, str]:
    """``{name: version}``, with ``"local"`` for distributions installed from a directory."""
    return {name: dist.version_or_local for name, dist in installed(venv).items()}
