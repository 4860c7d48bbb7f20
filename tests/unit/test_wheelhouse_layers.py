"""Base + delta (uvci.wheelhouse.layers) against the loopback index: cold, bump, A-B-A,
a corrupted base file, the rewrite rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from tests.support.universe import Release, build_release
from uvci.model.platforms import host_platform
from uvci.planning import make_plan
from uvci.util.uvproc import run_uv
from uvci.wheelhouse.layers import FillArgs, LayeredResult, fill_layered, rewrite_due
from uvci.wheelhouse.retention import parse_retain

MakeIndex = Callable[..., LoopbackIndex]
PURE_311 = {"alpha-1.1-py3-none-any.whl", "beta-2.0-py3-none-any.whl", "gamma-1.1-py3-none-any.whl"}
GAMMA_12 = "gamma-1.2-py3-none-any.whl"


def dists(wheelhouse: Path) -> set[str]:
    return {p.name for p in wheelhouse.iterdir() if p.name.endswith(".whl")}


def layered(project: Path) -> LayeredResult:
    plan = make_plan(project, python=["3.11"], platform=host_platform())
    wheels = project / ".uvci"
    return fill_layered(plan, wheels / "wheels", wheels / "wheels-delta",
                        FillArgs(retain=parse_retain("2x")))  # fmt: skip


def bump_gamma(project: Path, index: LoopbackIndex, uv_env: dict[str, str]) -> None:
    build_release(index.catalog.directory, Release("gamma", "1.2"))
    rc, _, err = run_uv(["lock", "--upgrade-package", "gamma"], cwd=project, env=uv_env)
    assert rc == 0, err


def test_cold_fills_the_base_and_leaves_the_delta_empty(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    index.reset()
    result = layered(project)
    assert result.rewrote and result.base_changed
    assert dists(project / ".uvci/wheels") == PURE_311
    assert dists(project / ".uvci/wheels-delta") == set()
    assert index.file_requests() == {name: 1 for name in PURE_311}


def test_bump_fetches_into_the_delta_only_and_a_b_a_fetches_nothing(
    locked_project: LockedProject, make_index: MakeIndex, uv_env: dict[str, str]
) -> None:
    index = make_index()
    project = locked_project("pure", index=index)
    layered(project)
    base_before = {p.name: p.stat().st_mtime_ns for p in (project / ".uvci/wheels").iterdir()}
    lock_a = (project / "uv.lock").read_text()
    bump_gamma(project, index, uv_env)
    lock_b = (project / "uv.lock").read_text()
    index.reset()
    bump = layered(project)
    assert index.file_requests() == {GAMMA_12: 1}
    assert not bump.rewrote and not bump.base_changed and bump.delta_changed
    assert dists(project / ".uvci/wheels-delta") == {GAMMA_12}
    after = {p.name: p.stat().st_mtime_ns for p in (project / ".uvci/wheels").iterdir()}
    assert after == base_before  # the base is not touched: nothing to upload there
    (project / "uv.lock").write_text(lock_a)  # back to A: all of it in the base
    index.reset()
    a = layered(project)
    assert index.file_requests() == {}
    assert GAMMA_12 in dists(project / ".uvci/wheels-delta")  # kept for B (--retain 2x)
    assert not a.base_changed
    (project / "uv.lock").write_text(lock_b)
    index.reset()
    b = layered(project)
    assert index.file_requests() == {} and not b.base_changed


def test_a_corrupted_base_file_is_fetched_again_and_the_base_rewritten(
    locked_project: LockedProject, index: LoopbackIndex
) -> None:
    project = locked_project("pure")
    layered(project)
    victim = project / ".uvci/wheels/beta-2.0-py3-none-any.whl"
    victim.write_bytes(b"\0" * victim.stat().st_size)
    index.reset()
    result = layered(project)
    assert index.file_requests() == {"beta-2.0-py3-none-any.whl": 1}
    assert result.rewrote and dists(project / ".uvci/wheels-delta") == set()
    assert victim.read_bytes() != b"\0" * victim.stat().st_size


def test_the_base_is_rewritten_once_the_deltas_uploads_add_up_to_it() -> None:
    assert rewrite_due(1, 1, 0)  # cold: an empty base is written at once
    assert not rewrite_due(10, 1, 100)  # one small delta: keep the base
    assert not rewrite_due(30, 3, 100)  # 3 locks, uploads ~ 3 * 30 / 2 = 45 < 100
    assert rewrite_due(50, 4, 100)  # ~ 4 * 50 / 2 = 100: a base upload's worth
    assert rewrite_due(200, 1, 100)  # a delta twice the base: rewrite now


def test_a_link_in_the_base_is_never_followed(
    locked_project: LockedProject, index: LoopbackIndex, tmp_path: Path
) -> None:
    project = locked_project("pure")
    layered(project)
    victim = project / ".uvci/wheels/beta-2.0-py3-none-any.whl"
    outside = tmp_path / "outside.whl"
    outside.write_bytes(victim.read_bytes())  # even with the right content: a link is refused
    victim.unlink()
    victim.symlink_to(outside)
    index.reset()
    result = layered(project)
    assert index.file_requests() == {"beta-2.0-py3-none-any.whl": 1}
    assert result.rewrote and not victim.is_symlink() and outside.is_file()
