"""Where GitLab reads YAML differently from the YAML libraries: a repeated key takes its last
value, and nesting past a limit is refused (quickly, before any recursive composer runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.constructor import RoundTripConstructor

from uvci.errors import FatalError
from uvci.gitlab.yaml import fastload

MAX_NESTING = 100  # mappings and lists inside each other (the loader's limit too)


class LastKeyWins(RoundTripConstructor):
    """A repeated mapping key keeps its first place and takes its last value, as in GitLab."""

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> bool:
        if key not in mapping:
            return True
        mapping[key] = value
        mark = key_node.start_mark
        mapping.lc.data[key] = [mark.line, mark.column, mark.line, mark.column]
        return False


def refuse_deep_nesting(text: str, path: Path) -> None:
    """FatalError naming ``path`` (and the line) when collections nest past MAX_NESTING."""
    deep = fastload.nesting_beyond(text, MAX_NESTING)
    if deep is not None:
        where = f"{path}:{deep}" if deep else str(path)
        raise FatalError(
            f"{where}: mappings and lists nested more than {MAX_NESTING} levels deep; "
            "GitLab refuses such a file too: flatten the YAML"
        )
