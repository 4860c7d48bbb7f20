"""``uv sync``'s selection flags, and the roots of the lock graph they select."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from uvci.errors import FatalError
from uvci.model.lock import Lock, Package
from uvci.model.project import Project
from uvci.model.walk import Root


@dataclass(frozen=True)
class Selection:
    """The same flags as ``uv sync``; the defaults select what a bare ``uv sync`` installs."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False
    no_dev: bool = False
    only_groups: tuple[str, ...] = ()
    no_default_groups: bool = False
    packages: tuple[str, ...] = ()
    all_packages: bool = False

    def uv_args(self) -> list[str]:
        """The same selection as ``uv sync``/``uv export`` arguments."""
        args = [f"--extra={e}" for e in self.extras]
        args += [f"--group={g}" for g in self.groups]
        args += [f"--only-group={g}" for g in self.only_groups]
        args += [f"--package={p}" for p in self.packages]
        flags = {
            "--all-extras": self.all_extras,
            "--all-groups": self.all_groups,
            "--no-dev": self.no_dev,
            "--no-default-groups": self.no_default_groups,
            "--all-packages": self.all_packages,
        }
        return args + [flag for flag, on in flags.items() if on]


def roots(project: Project, lock: Lock, selection: Selection) -> list[Root]:
    """The starting points ``uv sync`` walks from, for ``selection``."""
    members = _selected_members(project, lock, selection)
    _check_extras(project, members, selection)
    groups = _active_groups(project, lock, members, selection)
    only = bool(selection.only_groups)
    out = [
        Root(
            package=member,
            install_self=not only,
            include_dependencies=not only,
            extras=tuple(member.optional) if selection.all_extras else _extras(member, selection),
            group_deps=tuple(d for g in groups for d in member.groups.get(g, ())),
        )
        for member in members
    ]
    manifest_deps = tuple(d for g in groups for d in lock.manifest_groups.get(g, ()))
    if manifest_deps:
        out.append(Root(None, False, False, (), manifest_deps))
    return out


def _extras(member: Package, selection: Selection) -> tuple[str, ...]:
    return tuple(
        e for e in (canonicalize_name(x) for x in selection.extras) if e in member.optional
    )


def _selected_members(project: Project, lock: Lock, selection: Selection) -> list[Package]:
    local = {p.name: p for p in lock.packages if p.is_local}
    names: list[str]
    if selection.packages:
        names = [canonicalize_name(n) for n in selection.packages]
    elif selection.all_packages or project.name is None:
        names = list(lock.members) or list(local)
    else:
        names = [project.name]
    missing = [n for n in names if n not in local]
    if missing:
        raise FatalError(
            f"{lock.path}: {', '.join(missing)} is not a package of this workspace; "
            "check --package, or run `uv lock` if pyproject.toml changed"
        )
    return [local[n] for n in names]


def _active_groups(
    project: Project, lock: Lock, members: list[Package], selection: Selection
) -> list[str]:
    known = {g for m in members for g in m.groups} | set(lock.manifest_groups) | set(project.groups)
    if selection.only_groups:
        wanted = list(selection.only_groups)
    else:
        defaults: list[str] = []
        if not selection.no_default_groups:
            defaults = (
                sorted(known) if project.default_groups == "all" else [*project.default_groups]
            )
        wanted = sorted(known) if selection.all_groups else defaults + list(selection.groups)
        if selection.no_dev:
            wanted = [g for g in wanted if g != "dev"]
    unknown = [g for g in (*selection.groups, *selection.only_groups) if g not in known]
    if unknown:
        raise FatalError(
            f"{project.pyproject}: no dependency group {', '.join(unknown)}; "
            f"known groups: {', '.join(sorted(known)) or 'none'}"
        )
    return list(dict.fromkeys(wanted))


def _check_extras(project: Project, members: list[Package], selection: Selection) -> None:
    known = {e for m in members for e in m.optional}
    unknown = [e for e in selection.extras if canonicalize_name(e) not in known]
    if unknown:
        raise FatalError(
            f"{project.pyproject}: no optional-dependencies extra {', '.join(unknown)}; "
            f"known extras: {', '.join(sorted(known)) or 'none'}"
        )
