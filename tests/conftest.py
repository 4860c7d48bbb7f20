"""Shared fixtures: a hermetic uv, a loopback package index, locked test projects, Pythons.

See tests/support/README.md for the full guide. Nothing here reaches the network: every uv
command gets a session-private cache, ``UV_PYTHON_DOWNLOADS=never`` and the loopback index, and
proxies point at a dead loopback port so a stray request to a public host fails at once.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # make `tests.support` importable however pytest is started
    sys.path.insert(0, str(REPO))

from tests.support.faulty_index import FaultyIndex  # noqa: E402
from tests.support.images import Images, require_images  # noqa: E402
from tests.support.projects import copy_project, hermetic_env, lock  # noqa: E402
from tests.support.pyindex import LoopbackIndex  # noqa: E402
from tests.support.pythons import MATRIX, find_pythons  # noqa: E402
from tests.support.universe import Release, build_release, build_universe  # noqa: E402

LockedProject = Callable[..., Path]


@pytest.fixture(scope="session")
def pythons() -> dict[str, Path]:
    """Installed CPythons: ``{"3.10": Path(".../bin/python"), ...}``; missing ones are absent."""
    return find_pythons()


@pytest.fixture(scope="session")
def container_images() -> Images:
    """The local podman images (tests/support/images.py), built once per machine and reused:
    ``.python["3.12"]`` = ``ghcr.io/astral-sh/uv:<uv>-python3.12-trixie-slim`` for each
    installed CPython, ``.util`` = gitlab-ci-local's helper image, ``.versions`` = full CPython
    versions, ``.env(base)`` = ``base`` + ``CONTAINERS_CONF``. Skips without podman or root,
    except with ``CI=true`` (fails)."""
    return require_images()


@pytest.fixture(params=MATRIX)
def each_python(request: pytest.FixtureRequest, pythons: dict[str, Path]) -> tuple[str, Path]:
    """Parametrizes a test over 3.10..3.13: ``(minor, interpreter)``; skips a missing one."""
    minor = str(request.param)
    if minor not in pythons:
        pytest.skip(f"Python {minor} is not installed")
    return minor, pythons[minor]


@pytest.fixture(scope="session")
def universe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture universe (tests/support/universe.py), built once per session; read-only."""
    directory = tmp_path_factory.mktemp("universe")
    build_universe(directory)
    return directory


@pytest.fixture(scope="session")
def session_index(universe_dir: Path) -> Iterator[LoopbackIndex]:
    """The session's loopback index over ``universe_dir``. Prefer the ``index`` fixture in tests."""
    with LoopbackIndex(universe_dir) as index:
        yield index


@pytest.fixture
def index(session_index: LoopbackIndex) -> Iterator[LoopbackIndex]:
    """The session index with its request log reset and no faults, for counting in one test."""
    session_index.reset()
    session_index.clear_faults()
    yield session_index
    session_index.clear_faults()


@pytest.fixture(scope="session")
def uv_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env for uv subprocesses: session uv cache, no Python downloads, public hosts unreachable."""
    return hermetic_env(tmp_path_factory.mktemp("uv-cache"))


@pytest.fixture
def cold_uv_env(tmp_path: Path) -> dict[str, str]:
    """Like ``uv_env`` but with an empty uv cache of its own (to count every download)."""
    return hermetic_env(tmp_path / "uv-cache")


@pytest.fixture(autouse=True)
def _hermetic_environ(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, uv_env: dict[str, str]
) -> None:
    """Every test (except ``@pytest.mark.network``) runs with ``os.environ`` = ``uv_env``."""
    if request.node.get_closest_marker("network"):
        return
    for key in list(os.environ):
        if key not in uv_env and not key.startswith("PYTEST_"):
            monkeypatch.delenv(key)
    for key, value in uv_env.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="session")
def _locked_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Cache of projects locked against the session index (locked once per session)."""
    return {"__root__": tmp_path_factory.mktemp("locked-templates")}


@pytest.fixture
def locked_project(
    tmp_path: Path,
    session_index: LoopbackIndex,
    uv_env: dict[str, str],
    _locked_templates: dict[str, Path],
) -> LockedProject:
    """``locked_project(name, index=None) -> Path``: a fresh copy of tests/data/projects/<name>
    in tmp_path, pointed at the loopback index (``[[tool.uv.index]] default = true``) with a real
    ``uv.lock``. With the session index the lock is made once per session and copied."""

    def make(name: str, index: LoopbackIndex | None = None) -> Path:
        dest = tmp_path / name
        if index is not None and index is not session_index:
            lock(copy_project(name, dest, index.url), uv_env)
            return dest
        if name not in _locked_templates:
            template = _locked_templates["__root__"] / name
            lock(copy_project(name, template, session_index.url), uv_env)
            _locked_templates[name] = template
        shutil.copytree(_locked_templates[name], dest)
        return dest

    return make


@pytest.fixture
def make_index(tmp_path: Path, universe_dir: Path) -> Iterator[Callable[..., LoopbackIndex]]:
    """``make_index(extra=(), bandwidth=None, files=()) -> LoopbackIndex``: a private, started
    index over a copy of the universe plus ``extra`` releases and ``files`` (dist paths copied in,
    e.g. the uvci wheelhouse); add files to ``index.catalog.directory`` freely (e.g.
    ``build_release(index.catalog.directory, Release("gamma", "1.2"))``). Stopped after the test."""
    started: list[LoopbackIndex] = []

    def make(
        extra: Sequence[Release] = (), bandwidth: int | None = None, files: Sequence[Path] = ()
    ) -> LoopbackIndex:
        directory = tmp_path / f"index-{len(started)}"
        shutil.copytree(universe_dir, directory)
        for release in extra:
            build_release(directory, release)
        for path in files:
            shutil.copy2(path, directory / Path(path).name)
        started.append(LoopbackIndex(directory, bandwidth=bandwidth).start())
        return started[-1]

    yield make
    for index in started:
        index.stop()


@pytest.fixture
def faulty(universe_dir: Path, tmp_path: Path) -> Iterator[FaultyIndex]:
    """A private loopback index over a copy of the universe that can redirect and trickle
    (tests/support/faulty_index.py); stopped after the test."""
    directory = tmp_path / "faulty-index"
    shutil.copytree(universe_dir, directory)
    index = FaultyIndex(directory).start()
    assert isinstance(index, FaultyIndex)
    yield index
    index.stop()
