"""``extends:`` resolution: parents merged in order, the job on top, cycles reported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from uvci.errors import FatalError
from uvci.gitlab.read.nodes import MergedMap, Registry, as_str_list, deep_merge

MAX_EXTENDS_DEPTH = 11


def resolve_extends(
    jobs: Mapping[str, Any], registry: Registry, *, lenient: bool = False
) -> dict[str, MergedMap]:
    """Every job (and template) of ``jobs`` with its ``extends:`` chain merged in.

    ``lenient``: parents that are not defined are skipped (they may come from includes uvci
    cannot read) instead of being an error.
    """
    resolver = _Extends(jobs, registry, lenient)
    return {name: resolver.resolve(name, []) for name in jobs}


class _Extends:
    def __init__(self, jobs: Mapping[str, Any], registry: Registry, lenient: bool) -> None:
        self.jobs, self.registry, self.lenient = jobs, registry, lenient
        self.done: dict[str, MergedMap] = {}

    def resolve(self, name: str, chain: list[str]) -> MergedMap:
        if name in self.done:
            return self.done[name]
        job = self.jobs[name]
        where = self.registry.locate(job, "extends") if "extends" in job else None
        if name in chain:
            path = " -> ".join([*chain[chain.index(name) :], name])
            raise FatalError(f"{where}: cyclic extends: {path}; remove one of these extends")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise FatalError(
                f"{where}: extends nested deeper than {MAX_EXTENDS_DEPTH} levels; "
                "shorten the chain (GitLab refuses it too)"
            )
        merged = MergedMap()
        for parent in as_str_list(job.get("extends")):
            if parent in self.jobs:
                merged = deep_merge(merged, self.resolve(parent, [*chain, name]))
            elif not self.lenient:
                raise FatalError(
                    f"{where}: job '{name}' extends '{parent}', which is not defined; "
                    "define it or fix the name"
                )
        own = MergedMap()
        for key, value in job.items():
            if key != "extends":
                own.put(key, value, job)
        self.done[name] = deep_merge(merged, own)
        return self.done[name]
