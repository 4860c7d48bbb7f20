"""The shared layout in containers: one base and one delta key, one writer job, readers that
only pull.

``uvci generate --layout shared`` for the ``pure`` project on 3.10 and 3.12: ``uvci-test-writer``
(3.12, the newest) fills the wheelhouse for every cell of a new uv.lock and uploads it;
``uvci-test: [3.10]`` pulls it (policy pull) and fetches only what it lacks. In the first
pipeline the two run side by side, so the reader fetches its own files once (and uploads
nothing); from then on nothing is fetched or uploaded. After a bump (lock B) both cells fetch
the new package, running uvci from the wheelhouse (nothing of uvci's from the index); back on
lock A the writer remembers it filled for A: nothing is fetched or uploaded. The bump uploads
the delta key alone. A dependency
added to pyproject.toml without `uv lock` fails every cell, as `uv sync --locked` would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import bump_package, generated_in_containers
from tests.support.images import Images
from tests.support.universe import Release

pytestmark = pytest.mark.slow

PYTHONS = ("3.10", "3.12")
KEY = "uvci-v3-base-all-x86_64"
DELTA_KEY = "uvci-v3-delta-all-x86_64"
TEST_COMMAND = "python -m unittest discover -s tests"
BACKPORT = "backport-1.0-py3-none-any.whl"  # only the 3.10 cell installs it


def test_one_writer_fills_for_every_cell_and_readers_only_pull(
    tmp_path: Path, container_images: Images
) -> None:
    args = ("--layout", "shared", "--test-command", TEST_COMMAND)
    with generated_in_containers(tmp_path, container_images, "pure", PYTHONS, *args) as harness:
        cold, warm = harness.run(), harness.run()
        lock_a = (harness.project / "uv.lock").read_text()
        bump_package(harness, Release("gamma", "1.2", requires_dist=()), tmp_path / "uv-cache")
        bump = harness.run()  # lock B
        (harness.project / "uv.lock").write_text(lock_a)
        harness.commit("back to lock A")
        back_to_a = harness.run()  # A, B, A: the writer filled for A lately
        pyproject = harness.project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"alpha>=1.1"', '"alpha>=1.1", "tint"'))
        harness.commit("a dependency added without `uv lock`")
        stale = harness.run()
    assert cold.rc == 0, cold.output
    assert sorted(cold.passed()) == ["uvci-test-writer", "uvci-test: [3.10]"], cold.output
    fetched = cold.project_files()
    assert fetched[BACKPORT] == 2  # the writer fetched it for 3.10, and 3.10 for itself
    assert {f for f, n in fetched.items() if n == 1} == set()  # every file: writer + reader
    stored = harness.cache / KEY / ".uvci" / "wheels"
    assert (stored / BACKPORT).is_file()  # the writer saved the 3.10 cell's files too
    assert "filling the shared wheelhouse for every cell" in cold.output
    writer_log = cold.log("uvci-test-writer")
    assert "installed offline from the wheelhouse this job filled" in writer_log, writer_log
    assert "installed offline from the restored wheelhouse" not in writer_log
    assert "  uv: " not in writer_log  # no uv error in the writer's cold path
    assert warm.rc == 0, warm.output
    assert warm.requests == (), [r.path for r in warm.requests]
    assert warm.cache_after == warm.cache_before
    assert "filling the shared wheelhouse" not in warm.output
    assert bump.rc == 0, bump.output
    assert bump.project_files() == {"gamma-1.2-py3-none-any.whl": 2}  # writer + reader
    assert bump.tool_requests() == []  # uvci from the wheelhouse, offline, in both cells
    assert "filling the shared wheelhouse for every cell" in bump.output
    assert saved_keys(bump.cache_before, bump.cache_after) == {DELTA_KEY}  # never the base
    assert back_to_a.rc == 0, back_to_a.output
    assert back_to_a.requests == (), [r.path for r in back_to_a.requests]
    assert back_to_a.cache_after == back_to_a.cache_before  # nothing refilled, nothing uploaded
    assert "filling the shared wheelhouse" not in back_to_a.output
    assert stale.rc != 0 and stale.passed() == []  # as `uv sync --locked`: no cell tests it
    said = "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
    assert all(
        f"{job} > {said}" in stale.output for job in ("uvci-test: [3.10]", "uvci-test-writer ")
    ), stale.output


def saved_keys(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    return {path.split("/")[0] for path in changed}
