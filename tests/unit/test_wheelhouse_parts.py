"""The wheelhouse's smaller contracts: paths, argv, manifest robustness, requirements without
hashes, concurrent fills, and the progress reporters (plain, GitLab sections, rich)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from uvci.errors import FatalError
from uvci.planning import make_plan
from uvci.util.atomicfile import write_if_changed
from uvci.util.progress import PlainReporter, RichReporter, make_reporter
from uvci.util.uvproc import run_uv
from uvci.wheelhouse.fill import (
    PrefetchResult,
    default_wheelhouse,
    fill_wheelhouse,
    offline_install_command,
    requirements_path,
    status_paths,
)
from uvci.wheelhouse.manifest import Manifest, load_manifest
from uvci.wheelhouse.ownership import MARKER


def test_paths_and_offline_install_argv(tmp_path: Path) -> None:
    wheelhouse = default_wheelhouse(tmp_path)
    assert wheelhouse == tmp_path / ".uvci" / "wheels"
    assert requirements_path(wheelhouse, "3.12") == wheelhouse / "requirements-3.12.txt"
    status = status_paths(wheelhouse)
    assert status.unchanged == tmp_path / ".uvci" / "wheels.unchanged"
    assert status.report == tmp_path / ".uvci" / "wheels.prefetch.json"
    assert offline_install_command(wheelhouse, "3.12", "/venv/bin/python") == [
        "pip", "install", "--python", "/venv/bin/python", "--offline", "--no-index",
        "--find-links", str(wheelhouse), "-r", str(wheelhouse / "requirements-3.12.txt"),
    ]  # fmt: skip


def test_unreadable_manifest_is_rebuilt_without_downloads(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    plan = make_plan(project, python=["3.12"])
    wheelhouse = project / "wh"
    fill_wheelhouse(plan, wheelhouse)
    good = (wheelhouse / "manifest.json").read_text()
    (wheelhouse / "manifest.json").write_text("{not json")
    assert load_manifest(wheelhouse) == Manifest()
    index.reset()
    result = fill_wheelhouse(plan, wheelhouse)
    assert index.requests == []
    assert result.changed and result.reused.files == 3
    assert (wheelhouse / "manifest.json").read_text() == good


@pytest.mark.parametrize("replacement", ["", 'hash = "sha512:{}", '])
def test_lock_without_a_sha256_is_refused_not_trusted(
    locked_project: LockedProject, tmp_path: Path, replacement: str
) -> None:
    """Issue 19: a same-size file was "reused" and requirements lost their hashes."""
    project = locked_project("pure")
    lock = project / "uv.lock"
    text = lock.read_text()
    gamma_wheel = re.compile(r'(gamma-1\.1-py3-none-any\.whl", )hash = "sha256:[0-9a-f]+", ')
    assert gamma_wheel.search(text)
    lock.write_text(gamma_wheel.sub(r"\1" + replacement.format("ab" * 64), text))
    plan = make_plan(project, python=["3.12"], check_lock=False)
    wheelhouse = tmp_path / "wh"
    wheelhouse.mkdir()
    (wheelhouse / MARKER).write_text("uvci\n")
    planted = wheelhouse / "gamma-1.1-py3-none-any.whl"
    planted.write_bytes(b"x" * 990)  # the size uv.lock records: today "reused"
    with pytest.raises(FatalError) as caught:
        fill_wheelhouse(plan, wheelhouse)
    said = str(caught.value)
    assert said.startswith("gamma-1.1-py3-none-any.whl: uv.lock records no sha256 for it")
    assert "run `uv lock --refresh`" in said and "\n" not in said
    assert not requirements_path(wheelhouse, "3.12").exists()


def test_concurrent_fills_of_one_wheelhouse_take_turns(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    plan = make_plan(project, python=["3.10", "3.12"])
    results: list[PrefetchResult] = []

    def fill(cell: str) -> None:
        results.append(fill_wheelhouse(plan, project / "wh", cells=[cell], jobs=2))

    threads = [threading.Thread(target=fill, args=(cell,)) for cell in ("3.10", "3.12")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert set(index.file_requests().values()) == {1}
    manifest = json.loads((project / "wh" / "manifest.json").read_text())
    assert set(manifest["cells"]) == {"3.10", "3.12"}


def test_plain_reporter_lines_and_gitlab_section() -> None:
    stream = io.StringIO()
    reporter = PlainReporter(stream, gitlab=True, section="uvci_prefetch")
    reporter.begin("wheelhouse wh", 2, 3_000_000)
    reporter.file_done("fetched", "a-1-py3-none-any.whl", 1_500_000)
    reporter.file_done("reused", "b-1-py3-none-any.whl", 1_500_000)
    reporter.end("done")
    lines = stream.getvalue().split("\n")
    assert re.fullmatch(
        r"\x1b\[0Ksection_start:\d+:uvci_prefetch\[collapsed=true\]\r\x1b\[0K"
        r"wheelhouse wh: 2 files, 3\.0 MB",
        lines[0],
    )
    assert lines[1] == "  fetched a-1-py3-none-any.whl (1.50 MB)"  # reused files stay quiet
    assert re.fullmatch(r"\x1b\[0Ksection_end:\d+:uvci_prefetch\r\x1b\[0K", lines[2])
    assert lines[3:] == ["done", ""]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_make_reporter_picks_by_terminal_and_ci() -> None:
    assert isinstance(make_reporter(_Tty(), env={}), RichReporter)
    ci = make_reporter(_Tty(), env={"GITLAB_CI": "true"})
    assert isinstance(ci, PlainReporter) and ci.gitlab
    plain = make_reporter(io.StringIO(), env={})
    assert isinstance(plain, PlainReporter) and not plain.gitlab


def test_rich_reporter_prints_files_and_summary() -> None:
    stream = io.StringIO()
    reporter = RichReporter(Console(file=stream, force_terminal=True, width=100))
    reporter.begin("wheelhouse wh", 1, 10)
    reporter.advance(10)
    reporter.file_done("fetched", "a-1-py3-none-any.whl", 10)
    reporter.note("something to read")
    reporter.end("uvci prefetch: [wh] changed")
    out = stream.getvalue()
    assert "fetched a-1-py3-none-any.whl" in out and "something to read" in out
    assert "uvci prefetch: [wh] changed" in out


def test_downloads_reuse_one_connection_per_thread(
    locked_project: LockedProject, make_index: Callable[..., LoopbackIndex]
) -> None:
    index = make_index()
    project = locked_project("pure", index=index)
    connections: list[object] = []
    server = index._server  # count TCP connections the index accepts
    accept = server.process_request

    def counting(request: Any, address: Any) -> None:
        connections.append(address)
        accept(request, address)

    server.process_request = counting  # type: ignore[method-assign]
    index.reset()
    result = fill_wheelhouse(make_plan(project, python=["3.10"]), project / "wh", jobs=1)
    assert result.fetched.files == 4
    assert len(index.file_requests()) == 4 and len(connections) == 1


def test_flat_directory_index_files_are_copied_and_install_offline(
    tmp_path: Path, universe_dir: Path, cold_uv_env: dict[str, str]
) -> None:
    project = tmp_path / "flat"
    (project / "wheels").mkdir(parents=True)
    for name in ("gamma-1.1-py3-none-any.whl", "beta-2.0-py3-none-any.whl"):
        (project / "wheels" / name).write_bytes((universe_dir / name).read_bytes())
    (project / "pyproject.toml").write_text(
        '[project]\nname = "flat"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["beta"]\n[tool.uv]\npackage = false\n'
        '[[tool.uv.index]]\nname = "local"\nurl = "./wheels"\nformat = "flat"\ndefault = true\n'
    )
    rc, _, err = run_uv(["lock", "--offline"], cwd=project, env=cold_uv_env)
    assert rc == 0, err
    result = fill_wheelhouse(make_plan(project, python=["3.12"]), tmp_path / "wh")
    assert result.fetched.files == 2
    source_sha = hashlib.sha256((universe_dir / "gamma-1.1-py3-none-any.whl").read_bytes())
    pins = requirements_path(result.wheelhouse, "3.12").read_text()  # uv.lock: no hash
    assert f"--hash=sha256:{source_sha.hexdigest()}" in pins  # the source's, read this run
    rc, _, err = run_uv(["venv", "-q", str(tmp_path / "venv")], env=cold_uv_env)
    assert rc == 0, err
    argv = offline_install_command(result.wheelhouse, "3.12", str(tmp_path / "venv"))
    rc, out, err = run_uv(argv, env=cold_uv_env)
    assert rc == 0, out + err
    copied = result.wheelhouse / "gamma-1.1-py3-none-any.whl"
    copied.write_bytes(b"not a wheel")  # uv.lock has no hash: compared with the source
    again = fill_wheelhouse(make_plan(project, python=["3.12"]), tmp_path / "wh")
    assert (again.fetched.files, again.reused.files) == (1, 1)
    assert copied.read_bytes() == (universe_dir / "gamma-1.1-py3-none-any.whl").read_bytes()


def test_a_status_or_requirements_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    with pytest.raises(FatalError) as caught:
        write_if_changed(blocker / "requirements-3.12.txt", "pins\n")
    assert caught.value.message == (
        f"{blocker}: cannot write requirements-3.12.txt: Not a directory; check that the "
        "directory exists and is writable"
    )
    write_if_changed(tmp_path / "ok.txt", "pins\n")
    assert (tmp_path / "ok.txt").read_text() == "pins\n"
