"""The walk of the lock for one matrix cell: which locked packages it installs, and which file
uv takes for each.

uv resolved when it wrote ``uv.lock``; this follows the lock's edges the way ``uv sync`` does,
evaluating each edge's marker in the cell's environment (``packaging`` evaluates), and picks
the wheel with the best tag rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.markers import Marker
from packaging.tags import Tag

from uvci.errors import FatalError
from uvci.model.lock import Dep, Dist, Lock, Package

Kind = Literal["wheel", "sdist", "local", "git", "unavailable"]


@dataclass(frozen=True)
class Root:
    """A starting point of ``uv sync``: a project, its extras and groups."""

    package: Package | None  # None: a virtual workspace root (only groups)
    install_self: bool
    include_dependencies: bool
    extras: tuple[str, ...]
    group_deps: tuple[Dep, ...]


@dataclass(frozen=True)
class Choice:
    package: Package
    kind: Kind
    dist: Dist | None


def walk(lock: Lock, roots: Sequence[Root], env: Mapping[str, str]) -> list[Package]:
    """The packages ``uv sync`` installs from ``roots`` in environment ``env``, lock order."""
    walker = _Walker(lock, env, _conflict_extras(roots))
    for root in roots:
        walker.add_root(root)
    walker.run()
    order = {id(p): i for i, p in enumerate(lock.packages)}
    return sorted(walker.installed.values(), key=lambda p: order[id(p)])


def _conflict_extras(roots: Sequence[Root]) -> tuple[str, ...]:
    """uv encodes conflicting extras in lock markers as ``extra == 'extra-<len>-<pkg>-<x>'``."""
    out = [""]
    for root in roots:
        if root.package is not None:
            name = root.package.name
            out += [f"extra-{len(name)}-{name}-{extra}" for extra in root.extras]
    return tuple(out)


class _Walker:
    def __init__(self, lock: Lock, env: Mapping[str, str], extras: tuple[str, ...]) -> None:
        self.lock = lock
        self.envs = [{**env, "extra": extra} for extra in extras]
        self.installed: dict[int, Package] = {}
        self.seen: set[tuple[int, str | None]] = set()
        self.stack: list[tuple[Package, str | None]] = []
        # id(marker) -> (marker, does it hold): the lock shares one Marker per text; the marker
        # is kept so that its id cannot be reused by another during the walk
        self.verdicts: dict[int, tuple[Marker, bool]] = {}

    def add_root(self, root: Root) -> None:
        if root.package is not None:
            if root.install_self:
                self.install(root.package)
            if root.include_dependencies:
                self.push_deps(root.package.dependencies)
                for extra in root.extras:
                    self.push_deps(root.package.optional.get(extra, ()))
        self.push_deps(root.group_deps)

    def install(self, package: Package) -> None:
        if package.source_kind != "virtual":  # `package = false`: only its dependencies
            self.installed[id(package)] = package

    def push_deps(self, deps: Iterable[Dep]) -> None:
        for dep in deps:
            if dep.marker is not None and not self.holds(dep.marker):
                continue
            package = self.lookup(dep)
            self.stack.append((package, None))
            self.stack.extend((package, extra) for extra in dep.extras)

    def holds(self, marker: Marker) -> bool:
        """Whether ``marker`` holds in this cell (for the project or one of its extras)."""
        known = self.verdicts.get(id(marker))
        if known is None:
            known = self.verdicts[id(marker)] = (marker, any(map(marker.evaluate, self.envs)))
        return known[1]

    def lookup(self, dep: Dep) -> Package:
        candidates = [
            p
            for p in self.lock.named(dep.name)
            if (dep.version is None or p.version == dep.version)
            and (dep.source is None or p.source == dep.source)
        ]
        if len(candidates) != 1:
            raise FatalError(
                f"{self.lock.path}: the lock has {len(candidates)} entries for {dep.name}"
                f"{' ' + dep.version if dep.version else ''} where one was expected; "
                "re-create it with `uv lock`"
            )
        return candidates[0]

    def run(self) -> None:
        while self.stack:
            package, extra = self.stack.pop()
            key = (id(package), extra)
            if key in self.seen:
                continue
            self.seen.add(key)
            self.install(package)
            deps = package.dependencies if extra is None else package.optional.get(extra, ())
            self.push_deps(deps)


def choose(package: Package, priority: Mapping[Tag, int]) -> Choice:
    """The file uv installs: the best-ranked compatible wheel, else the sdist."""
    if package.is_local:
        return Choice(package, "local", None)
    if package.source_kind == "git":
        return Choice(package, "git", None)
    best: tuple[int, Dist] | None = None
    for wheel in package.wheels:
        rank = _rank(wheel, priority)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, wheel)
    if best is not None:
        return Choice(package, "wheel", best[1])
    if package.sdist is not None:
        return Choice(package, "sdist", package.sdist)
    return Choice(package, "unavailable", None)


def _rank(wheel: Dist, priority: Mapping[Tag, int]) -> int | None:
    ranks = [priority[tag] for tag in wheel.wheel_tags or () if tag in priority]
    return min(ranks) if ranks else None
