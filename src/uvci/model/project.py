"""The project as uvci sees it: ``pyproject.toml`` facts and the Python matrix."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from uvci.errors import FatalError
from uvci.util.tomlio import key_line, load_toml

# CPython minor releases uv knows, with their first release and end of life (PEP 602 schedule).
RELEASES: dict[str, tuple[dt.date, dt.date]] = {
    "3.8": (dt.date(2019, 10, 14), dt.date(2024, 10, 7)),
    "3.9": (dt.date(2020, 10, 5), dt.date(2025, 10, 31)),
    "3.10": (dt.date(2021, 10, 4), dt.date(2026, 10, 31)),
    "3.11": (dt.date(2022, 10, 24), dt.date(2027, 10, 31)),
    "3.12": (dt.date(2023, 10, 2), dt.date(2028, 10, 31)),
    "3.13": (dt.date(2024, 10, 7), dt.date(2029, 10, 31)),
    "3.14": (dt.date(2025, 10, 7), dt.date(2030, 10, 31)),
    "3.15": (dt.date(2026, 10, 1), dt.date(2031, 10, 31)),
}
# The one default matrix (plan, generate, run and the catalog component): the maintained minors
# that uv publishes CI images for (``ghcr.io/astral-sh/uv:<v>-python3.X-trixie-slim`` and
# ``-alpine``: uv's build-docker.yml, read on this date). A newer minor stays out, with a note,
# until its images exist: most of its packages have no wheels yet either (they build from
# source). ``--python`` plans any release uv knows. Update with gitlab/generate/images.py.
IMAGED = ("3.10", "3.11", "3.12", "3.13", "3.14")
IMAGED_AS_OF = dt.date(2026, 11, 30)
_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")
_VERSION = re.compile(r"^3\.\d+(\.\d+)?$")


@dataclass(frozen=True)
class Project:
    """What uvci needs from ``pyproject.toml``."""

    root: Path
    name: str | None  # None for a virtual workspace root
    requires_python: SpecifierSet
    classifier_pythons: tuple[str, ...]
    default_groups: tuple[str, ...] | str  # "all" or group names
    groups: tuple[str, ...]
    uv_required_version: str | None

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"


def load_project(root: Path) -> Project:
    """Read ``root/pyproject.toml``; errors name the file and what to fix."""
    path = root / "pyproject.toml"
    data = _Table(
        path, "", load_toml(path, missing_hint="run uvci in a uv project or pass its directory")
    )
    project = data.table("project")
    tool_uv = data.table("tool").table("uv")
    name = project.get("name", str)
    return Project(
        root=root,
        name=canonicalize_name(name) if name is not None else None,
        requires_python=_requires_python(path, project.get("requires-python", str, "")),
        classifier_pythons=_classifier_pythons(project.strings("classifiers") or []),
        default_groups=_default_groups(tool_uv),
        groups=tuple(data.table("dependency-groups").data),
        uv_required_version=tool_uv.get("required-version", str),
    )


@dataclass(frozen=True)
class _Table:
    """A table of pyproject.toml whose values are type-checked as they are read."""

    path: Path
    name: str  # "project", "tool.uv"; "" for the document
    data: dict[str, Any]

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        value = self.data.get(key, default)
        if key in self.data and not isinstance(value, kind):
            self._wrong(key, f"a {_KINDS[kind]}, not {type(value).__name__} {value!r}")
        return value

    def table(self, key: str) -> _Table:
        return _Table(self.path, f"{self.name}.{key}".strip("."), self.get(key, dict, {}))

    def strings(self, key: str) -> list[str] | None:
        values: list[Any] | None = self.get(key, list)
        if values is not None and not all(isinstance(v, str) for v in values):
            self._wrong(key, "a list of strings")
        return values

    def _wrong(self, key: str, expected: str) -> NoReturn:
        where = f"[{self.name}] {key}" if self.name else f"[{key}]"
        raise FatalError(f"{key_line(self.path, key)}: {where} must be {expected}; fix the value")


_KINDS: dict[type, str] = {dict: "table", str: "string", list: "list"}


def _requires_python(path: Path, raw: str) -> SpecifierSet:
    try:
        return SpecifierSet(raw)
    except InvalidSpecifier:
        raise FatalError(
            f'{path}: requires-python = {raw!r} is not a version specifier; write e.g. ">=3.10"'
        ) from None


def _classifier_pythons(classifiers: Sequence[str]) -> tuple[str, ...]:
    found = (m.group(1) for c in classifiers if (m := _CLASSIFIER.match(c.strip())))
    return tuple(sorted(set(found), key=version_key))


def _default_groups(tool_uv: _Table) -> tuple[str, ...] | str:
    if tool_uv.data.get("default-groups") == "all":
        return "all"
    groups = tool_uv.strings("default-groups")
    return ("dev",) if groups is None else tuple(groups)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def minor_of(version: str) -> str:
    """``3.12.4`` -> ``3.12`` (a minor version stays as it is)."""
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class Matrix:
    """The Python versions to test, and what the user should know about the choice."""

    pythons: tuple[str, ...]
    notes: tuple[str, ...]


def allowed(requires_python: SpecifierSet, version: str) -> bool:
    """Whether ``requires-python`` admits some release of minor ``version``."""
    if requires_python.contains(f"{version}.0", prereleases=True):
        return True
    return any(requires_python.contains(f"{version}.{patch}") for patch in (1, 5, 10, 20))


def python_matrix(
    project: Project,
    requires_python: SpecifierSet,
    override: Sequence[str] | None = None,
    today: dt.date | None = None,
) -> Matrix:
    """Default: every maintained CPython minor that ``requires_python`` allows; or ``override``."""
    if override:
        return Matrix(_checked_override(project, requires_python, override), ())
    maintained = maintained_pythons(today)
    pythons = tuple(v for v in default_pythons(today) if allowed(requires_python, v))
    if not pythons:
        raise FatalError(
            f"{project.pyproject}: requires-python {str(requires_python)!r} allows no "
            f"maintained CPython ({', '.join(maintained)}); pass --python to choose versions"
        )
    notes = _classifier_notes(project, requires_python, pythons, maintained)
    newer = [v for v in maintained if v not in IMAGED and allowed(requires_python, v)]
    if newer:
        notes += (
            f"Python {', '.join(newer)} left out of the default matrix: uv publishes no CI "
            f"image for it yet (checked {IMAGED_AS_OF}); pass --python to plan it",
        )
    return Matrix(pythons, notes)


def maintained_pythons(today: dt.date | None = None) -> tuple[str, ...]:
    """The CPython minors released and not past their end of life on ``today``."""
    today = today or dt.date.today()
    return tuple(v for v, (born, eol) in RELEASES.items() if born <= today <= eol)


def default_pythons(today: dt.date | None = None) -> tuple[str, ...]:
    """The default matrix on ``today`` before requires-python: maintained minors with an image
    (:data:`IMAGED`); the same for plan, generate, run and the catalog component."""
    return tuple(v for v in maintained_pythons(today) if v in IMAGED)


def _checked_override(
    project: Project, requires_python: SpecifierSet, override: Sequence[str]
) -> tuple[str, ...]:
    out: list[str] = []
    for version in override:
        minor = minor_of(version)
        if not _VERSION.match(version) or minor not in RELEASES:
            known = f"{min(RELEASES, key=version_key)}–{max(RELEASES, key=version_key)}"
            raise FatalError(
                f"--python {version}: not a CPython release uv knows ({known}); "
                "write versions like 3.12"
            )
        if not allowed(requires_python, minor):
            raise FatalError(
                f"--python {version}: excluded by requires-python {str(requires_python)!r} "
                f"in {project.pyproject}; drop it or widen requires-python"
            )
        if version not in out:
            out.append(version)
    return tuple(sorted(out, key=version_key))


def _classifier_notes(
    project: Project,
    requires_python: SpecifierSet,
    pythons: tuple[str, ...],
    maintained: tuple[str, ...],
) -> tuple[str, ...]:
    listed = project.classifier_pythons
    if not listed:
        return ()
    notes = []
    excluded = [v for v in listed if v in RELEASES and not allowed(requires_python, v)]
    if excluded:
        notes.append(
            f"classifiers list Python {', '.join(excluded)}, which requires-python "
            f"{str(requires_python)!r} excludes"
        )
    unlisted = [v for v in pythons if v not in listed]
    if unlisted:
        notes.append(
            f"requires-python also allows Python {', '.join(unlisted)}, which the classifiers "
            "do not list (tested anyway; pass --python to choose)"
        )
    not_maintained = [v for v in listed if v not in (*pythons, *excluded, *maintained)]
    if not_maintained:
        notes.append(
            f"classifiers list Python {', '.join(not_maintained)}, past end of life: not in the "
            "default matrix (pass --python to test it)"
        )
    return tuple(notes)
