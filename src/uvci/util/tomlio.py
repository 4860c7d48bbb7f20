"""Reading TOML with errors that name the file and line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from uvci.errors import FatalError
from uvci.util.saferead import UnsafeFile, read_text_bounded

try:  # tomli's mypyc build parses a large uv.lock about five times faster than tomllib
    import tomli as tomllib
except ImportError:  # pragma: no cover - tomli is a dependency; a bare stdlib still works
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        raise

MAX_TOML_BYTES = 256 * 1024 * 1024  # a uv.lock of 10,000 packages is ~20 MB
_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_toml(path: Path, *, missing_hint: str) -> dict[str, Any]:
    """Parse ``path``; a missing or malformed file is a :class:`FatalError` with file:line."""
    try:  # a link is followed (a checkout may link its lock), a FIFO or device is refused
        text = read_text_bounded(path, MAX_TOML_BYTES, follow=True)
    except FileNotFoundError:
        raise FatalError(f"{path}: not found; {missing_hint}") from None
    except UnsafeFile as exc:
        raise FatalError(
            f"{path}: cannot read: it {exc.strerror}; replace it with the file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FatalError(f"{path}: cannot read: {exc}") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FatalError(_describe(path, exc)) from None
    except RecursionError:  # tomli refuses arrays/tables nested more than 400 levels so
        raise FatalError(
            f"{path}: invalid TOML: arrays or tables nested too deeply; fix the file"
        ) from None
    return data


def key_line(path: Path, key: str) -> str:
    """``path:LINE`` of the first line assigning ``key`` (for an error message), else ``path``."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return str(path)
    number = next((n for n, line in enumerate(lines, 1) if pattern.match(line)), None)
    return f"{path}:{number}" if number else str(path)


def _describe(path: Path, exc: Exception) -> str:
    message = str(exc)
    match = _LINE.search(message)
    if match is None:
        return f"{path}: invalid TOML: {message}; fix the syntax"
    what = message[: match.start()].strip().rstrip(".")
    return f"{path}:{match.group(1)}:{match.group(2)}: invalid TOML: {what}; fix the syntax"
