"""Release readiness: the version lives in pyproject.toml only, and generate says when the
running uvci is not a released one (its cells' default `uvx --from uvci==VERSION` would fail)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

import uvci
from uvci.gitlab.generate import release
from uvci.util.tomlio import load_toml

REPO = Path(__file__).resolve().parents[2]
LockedProject = Callable[..., Path]


def test_the_version_is_in_pyproject_only() -> None:
    project = load_toml(REPO / "pyproject.toml", missing_hint="")["project"]
    assert "version" not in project.get("dynamic", [])
    assert uvci.__version__ == project["version"]  # read from the installed metadata
    init = (REPO / "src" / "uvci" / "__init__.py").read_text(encoding="utf-8")
    assert project["version"] not in init
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {project['version']}" in changelog  # every version has its entry


def fake(version: str, direct_url: str | None = None) -> Callable[[str], SimpleNamespace]:
    def distribution(name: str) -> SimpleNamespace:
        files = {"direct_url.json": direct_url}
        return SimpleNamespace(version=version, read_text=files.get)

    return distribution


@pytest.mark.parametrize(
    ("version", "direct_url", "expected"),
    [
        ("1.2.0", None, None),
        ("1.2.0", '{"url": "file:///src/uvci", "dir_info": {"editable": true}}',
         "installed from file:///src/uvci, not from a package index"),
        ("1.3.0.dev1", None, "version 1.3.0.dev1 is a development"),
        ("1.3.0rc1", None, "version 1.3.0rc1 is a development"),
        ("1.2.0+g1234", None, "version 1.2.0+g1234 is a development"),
    ],
)  # fmt: skip
def test_unreleased_reason(
    monkeypatch: pytest.MonkeyPatch, version: str, direct_url: str | None, expected: str | None
) -> None:
    monkeypatch.setattr(release, "distribution", fake(version, direct_url))
    reason = release.unreleased_reason()
    assert reason == expected if expected is None else reason and reason.startswith(expected)
