"""The generated pipeline in containers: one stage, each cell keeping its own wheelhouse.

gitlab-ci-local runs ``uvci generate``'s pipeline with the docker executor on podman (see
pipeline_harness), each cell in ``ghcr.io/astral-sh/uv:<uv>-python3.X-trixie-slim`` built
locally: no git, no uvci, no pip in the image. The project is ``pure`` plus ``srconly`` (a
dependency with only an sdist), built by ``tinybackend``, a build backend served by the index
and locked with its hash in ``.gitlab/ci/uvci-build``. The index also serves the uvci wheel
built from this tree and its runtime dependencies (``uvx --from uvci==VERSION`` in a cell that
lacks files). Every request the jobs make is counted at the index.

Each cell keeps two caches, a base and a delta (uvci.wheelhouse.layers). One module fixture
runs the pipeline in sequence: cold; warm; after bumping one package (lock B); back on lock A;
with the cache storage emptied (evicted); with a wheel replaced in the stored base together
with every hash and record stored beside it (poisoned); with a test that fails on one Python;
after adding a dependency whose wheel outweighs the base (the delta passes its bound: the
base is rewritten). The tests below only read the recorded runs. What containers cannot show,
and so is not shown here: GitLab's protected/unprotected cache split and a real S3 store
(gitlab-ci-local keeps caches as directories: ``.gitlab-ci-local/cache/<key>``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import Harness, Run, bump_package, generated_in_containers
from tests.support.dists import BACKEND_SOURCE, build_wheel
from tests.support.images import Images
from tests.support.projects import hermetic_env
from tests.support.universe import Release
from uvci import __version__
from uvci.gitlab.generate.toolenv import TOOL_ENV
from uvci.planning import make_plan
from uvci.util.atomicfile import file_sha256
from uvci.util.uvproc import run_uv

pytestmark = pytest.mark.slow

PYTHONS = ("3.10", "3.12")  # 3.10 also installs `backport`: the cells differ
TEST_COMMAND = "python -m unittest discover -s tests -v"
IN_TREE_BACKEND = 'requires = []\nbuild-backend = "backend"\nbackend-path = ["."]'
INDEX_BACKEND = 'requires = ["tinybackend>=1"]\nbuild-backend = "tinybackend"'
BACKEND_WHEEL = "tinybackend-1.0-py3-none-any.whl"
POISONED = "alpha-1.1-py3-none-any.whl"
PRECIOUS = "keep/precious.txt"  # a file of the checkout, outside the wheelhouse
# the project's own test, in the hostile runs: nothing outside the wheelhouse was touched
UNTOUCHED_TEST = f"""
import os
import unittest


class UntouchedTest(unittest.TestCase):
    def test_files_outside_the_project_are_intact(self) -> None:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            with open(path) as f:
                self.assertIn("ID=", f.read(), path)
        self.assertFalse(os.path.exists("/usr/local/pyvenv.cfg"))  # no venv made through a link

    def test_the_checkout_is_intact(self) -> None:
        with open("{PRECIOUS}") as f:
            self.assertEqual(f.read(), "precious\\n")
"""
BULK = "bulk-1.0-py3-none-any.whl"  # a dependency larger than the whole base
FAILING_TEST = """
import sys
import unittest


class VersionTest(unittest.TestCase):
    def test_fails_on_312(self) -> None:
        self.assertLess(sys.version_info[:2], (3, 12), "made to fail on 3.12")
"""


@dataclass(frozen=True)
class Runs:
    cold: Run
    warm: Run
    bump: Run
    back_to_a: Run
    evicted: Run
    poisoned: Run
    failing: Run
    linked: Run  # a restored cache with links under .uvci, into the image and out of it
    forged: Run  # a restored cache whose manifest names paths outside the wheelhouse
    grown: Run  # a dependency larger than the base: the delta passes its bound
    stored: dict[str, dict[str, str]]  # run -> cell -> what its saved caches hold as POISONED
    planned: dict[str, frozenset[str]]  # each cell's files, from the plan (lock A)
    keys: dict[str, str]  # each cell's base cache key
    delta_keys: dict[str, str]  # each cell's delta cache key
    cache: Path  # gitlab-ci-local's cache storage
    poisoned_sha: str  # the sha256 uv.lock records for POISONED


def key(python: str, part: str = "base") -> str:
    return f"uvci-v3-{part}-py{python}-x86_64"


def _with_index_backend(project: Path, index_dir: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert IN_TREE_BACKEND in text
    text = text.replace('["alpha>=1.1"]', '["alpha>=1.1", "srconly>=1"]')
    pyproject.write_text(text.replace(IN_TREE_BACKEND, INDEX_BACKEND), encoding="utf-8")
    build_wheel(index_dir, "tinybackend", "1.0", module_source=BACKEND_SOURCE)


def stored_poisoned(harness: Harness) -> dict[str, str]:
    """Per cell, what its saved base and delta hold under POISONED right now: the sha256 of
    the one regular file, "link" for a link, "" when neither holds it."""
    found = {}
    for python in PYTHONS:
        paths = [harness.cache / key(python, part) / ".uvci" / d / POISONED
                 for part, d in (("base", "wheels"), ("delta", "wheels-delta"))]  # fmt: skip
        links = [path for path in paths if path.is_symlink()]
        files = [path for path in paths if path.is_file() and not path.is_symlink()]
        found[python] = "link" if links else file_sha256(files[0]) if len(files) == 1 else ""
    return found


def _poison(harness: Harness, donor: Path) -> None:
    """Swap a wheel in every stored cache, with each hash and record stored beside it."""
    fake = donor.read_bytes()
    for python in PYTHONS:
        wheels = harness.cache / key(python) / ".uvci" / "wheels"
        original = (wheels / POISONED).read_bytes()
        (wheels / POISONED).write_bytes(fake)
        old, new = hashlib.sha256(original).hexdigest(), file_sha256(wheels / POISONED)
        for record in wheels.iterdir():
            if record.is_file() and not record.name.endswith((".whl", ".tar.gz")):
                text = record.read_text(errors="replace").replace(old, new)
                record.write_text(text.replace(str(len(original)), str(len(fake))))
        manifest = json.loads((wheels / "manifest.json").read_text())
        assert manifest["files"][POISONED]["sha256"] == new  # the records agree with the fake


def _plant_links(harness: Harness) -> None:
    """Links in every stored cache: where the cell writes (.uvci/requirements.txt,
    build-requirements.txt, venv) into the image's own files, a needed wheel's name to a file
    elsewhere, and a loop. The runner restores the archive as it is, links included."""
    for python in PYTHONS:
        uvci = harness.cache / key(python) / ".uvci"
        (uvci / "requirements.txt").symlink_to("/etc/os-release")
        (uvci / "build-requirements.txt").symlink_to("/usr/lib/os-release")
        (uvci / "junit.xml").symlink_to("/usr/lib/os-release")
        (uvci / "venv").symlink_to("/usr/local", target_is_directory=True)
        (uvci / "wheels" / POISONED).unlink()
        (uvci / "wheels" / POISONED).symlink_to("/etc/os-release")
        (uvci / "wheels" / "loop-1.0-py3-none-any.whl").symlink_to("loop-1.0-py3-none-any.whl")


def _forge_manifest(harness: Harness, sdist_sha256: str) -> None:
    """Records naming paths outside the wheelhouse, as "built" wheels of the project's sdist
    (a record a fill checks, and removes when its file is wrong), and a needed wheel gone."""
    forged = {"sha256": "0" * 64, "size": 1, "origin": "built", "used": 10**9,
              "sdist": "srconly-1.0.tar.gz", "sdist_sha256": sdist_sha256}  # fmt: skip
    for python in PYTHONS:
        wheels = harness.cache / key(python) / ".uvci" / "wheels"
        manifest = json.loads((wheels / "manifest.json").read_text())
        for name in (f"../../{PRECIOUS}", "/etc/os-release", "../../.gitlab-ci.yml", "a\nb.whl"):
            manifest["files"][name] = forged
        (wheels / "manifest.json").write_text(json.dumps(manifest))
        for part, directory in (("base", "wheels"), ("delta", "wheels-delta")):  # a needed one gone
            (harness.cache / key(python, part) / ".uvci" / directory / POISONED).unlink(
                missing_ok=True
            )


def _hostile_runs(harness: Harness, sha: str, stored: dict[str, dict[str, str]]) -> tuple[Run, Run]:
    project = harness.project
    (project / "tests" / "test_version.py").unlink(missing_ok=True)  # the failing test gone
    (project / PRECIOUS).parent.mkdir()
    (project / PRECIOUS).write_text("precious\n", encoding="utf-8")
    (project / "tests" / "test_untouched.py").write_text(UNTOUCHED_TEST, encoding="utf-8")
    harness.commit("the project checks that nothing outside it was touched")
    _plant_links(harness)
    linked = harness.run()
    stored["linked"] = stored_poisoned(harness)
    _forge_manifest(harness, sha)
    forged = harness.run()
    stored["forged"] = stored_poisoned(harness)
    return linked, forged


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, container_images: Images) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("cells")
    (root / "donor").mkdir()
    donor = build_wheel(root / "donor", "alpha", "1.1", module_source="EVIL = True\n")
    args = ("--test-command", TEST_COMMAND, "--layout", "per-cell")
    with generated_in_containers(root, container_images, "pure", PYTHONS, *args,
                                 prepare=_with_index_backend) as harness:  # fmt: skip
        project = harness.project
        plan = make_plan(project, python=PYTHONS, check_lock=False)
        planned = {
            c.python: frozenset(p.file for p in c.packages if p.downloads and p.file)
            for c in plan.cells
        }
        lock_a = (project / "uv.lock").read_text()
        assert (project / TOOL_ENV / "uv.lock").is_file()  # uvci locked, committed with the rest
        assert "UVCI_SPEC" not in (project / ".gitlab" / "ci" / "uvci.yml").read_text()
        cold, warm = harness.run(), harness.run()
        bump_package(harness, Release("gamma", "1.2", requires_dist=()), root / "uv-cache")
        bump = harness.run()
        (project / "uv.lock").write_text(lock_a)
        harness.commit("back to lock A")
        back_to_a = harness.run()
        shutil.rmtree(harness.cache)  # the cache storage emptied
        evicted = harness.run()
        saved = [harness.cache / key(p) for p in PYTHONS]
        assert all(path.is_dir() for path in saved), evicted.output  # refilled and saved
        _poison(harness, donor)
        poisoned = harness.run()
        stored = {"poisoned": stored_poisoned(harness)}
        (project / "tests" / "test_version.py").write_text(FAILING_TEST, encoding="utf-8")
        harness.commit("a test that fails on 3.12")
        failing = harness.run()
        (project / "tests" / "test_version.py").unlink()
        _add_bulk(harness, root / "uv-cache")
        grown = harness.run()
        keys = {p: key(p) for p in PYTHONS}
        delta_keys = {p: key(p, "delta") for p in PYTHONS}
        sha = next(p.sha256 for p in plan.cells[0].packages if p.file == POISONED)
        sdist = next(p.sha256 for c in plan.cells for p in c.packages if p.kind == "sdist")
        assert sha is not None and sdist is not None
        linked, forged = _hostile_runs(harness, sdist, stored)
        yield Runs(cold, warm, bump, back_to_a, evicted, poisoned, failing, linked, forged,
                   grown, stored, planned, keys, delta_keys, harness.cache, sha)  # fmt: skip


def _add_bulk(harness: Harness, uv_cache: Path) -> None:
    """A new dependency whose wheel is larger than the whole base: the delta passes its bound."""
    base = sum(p.stat().st_size for p in (harness.cache / key("3.12") / ".uvci/wheels").iterdir())
    chunks = range(6 * base // 64 + 1)  # hex that never repeats: deflate only halves it
    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in chunks)
    build_wheel(harness.index.catalog.directory, "bulk", "1.0", module_source=f'DATA = "{noise}"\n')
    pyproject = harness.project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"srconly>=1"]', '"srconly>=1", "bulk"]'), encoding="utf-8")
    rc, _out, err = run_uv(["lock"], cwd=harness.project, env=hermetic_env(uv_cache), timeout=120)
    assert rc == 0, err
    harness.commit("a large dependency")


def saved_keys(run: Run) -> set[str]:
    """The cache keys this run wrote (any file added, changed or removed under them)."""
    changed = run.cache_after.keys() ^ run.cache_before.keys()
    changed |= {k for k in run.cache_after.keys() & run.cache_before.keys()
                if run.cache_after[k] != run.cache_before[k]}  # fmt: skip
    return {path.split("/")[0] for path in changed}


def test_cold_every_cell_fetches_only_its_own_files_once(runs: Runs) -> None:
    cold = runs.cold
    assert cold.rc == 0, cold.output
    assert sorted(cold.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], cold.output
    expected: dict[str, int] = {BACKEND_WHEEL: len(PYTHONS)}  # the build backend, per cell
    for files in runs.planned.values():
        for name in files:
            expected[name] = expected.get(name, 0) + 1
    assert cold.project_files() == expected  # each cell its own files, once
    assert "backport-1.0-py3-none-any.whl" in runs.planned["3.10"] - runs.planned["3.12"]
    assert "srconly-1.0.tar.gz" in runs.planned["3.12"]  # the sdist: uv builds it offline
    uvci_wheel = f"uvci-{__version__}-py3-none-any.whl"
    # per cell: once to run it (pinned by TOOL_ENV's hashes, nothing resolved), once into the
    # cell's wheelhouse, for the fills to come
    assert cold.tool_files()[uvci_wheel] == 2 * len(PYTHONS)
    assert "installing it from the index" in cold.output
    for python in PYTHONS:
        assert f"{key(python)}/.uvci/wheels/{uvci_wheel}" in cold.cache_after
        log = cold.cell_log(python)
        # every line true: no uv error before uvci says it fetches; the cold fill is the base
        assert "no wheelhouse was restored" in log and "  uv: " not in log, log
        assert "Failed to read" not in log and "installed offline from the restored" not in log
        assert "base rewritten with the delta's files, delta emptied" in log
        dists = [p for p in cold.cache_after if p.startswith(f"{key(python, 'delta')}/")]
        assert not [p for p in dists if p.endswith(".whl")]  # the delta: metadata only
    # each key uploaded once, by its cell: the base, and the delta's (empty) records
    assert saved_keys(cold) == {*runs.keys.values(), *runs.delta_keys.values()}


def test_warm_takes_nothing_from_the_index_and_uploads_nothing(runs: Runs) -> None:
    warm = runs.warm
    assert warm.rc == 0, warm.output
    assert sorted(warm.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], warm.output
    assert warm.requests == (), [r.path for r in warm.requests]  # not even uvci: it never ran
    assert saved_keys(warm) == set()
    for python in PYTHONS:
        log = warm.cell_log(python)
        assert "installed offline from the restored wheelhouse" in log, log
        assert "nothing to upload" in log


def test_a_bumped_package_is_fetched_alone_and_only_the_delta_uploaded(runs: Runs) -> None:
    bump = runs.bump
    assert bump.rc == 0, bump.output
    assert bump.project_files() == {"gamma-1.2-py3-none-any.whl": len(PYTHONS)}
    assert saved_keys(bump) == set(runs.delta_keys.values())  # the base is not uploaded
    for python in PYTHONS:
        stored = f"{key(python, 'delta')}/.uvci/wheels-delta/gamma-1.2-py3-none-any.whl"
        assert stored in bump.cache_after
        assert "base unchanged, delta changed" in bump.cell_log(python)
    # each cell ran uvci from its own wheelhouse, offline: nothing of uvci's from the index
    assert bump.tool_requests() == []
    for python in PYTHONS:
        log = bump.cell_log(python)
        assert "fetching them" in log and "installing it from the index" not in log, log
        assert "  uv: " in log  # uv's answer to the offline attempt, quoted as uv's


def test_back_on_the_previous_lock_nothing_is_fetched(runs: Runs) -> None:
    run = runs.back_to_a
    assert run.rc == 0, run.output
    assert run.requests == (), [r.path for r in run.requests]  # lock A's files were retained
    assert saved_keys(run) == set()


def test_an_evicted_cache_refills_in_the_next_pipeline(runs: Runs) -> None:
    run = runs.evicted
    assert run.rc == 0, run.output
    assert run.project_files() == runs.cold.project_files()
    assert saved_keys(run) == {*runs.keys.values(), *runs.delta_keys.values()}


def test_a_poisoned_cache_installs_nothing_from_it_and_is_repaired(runs: Runs) -> None:
    run = runs.poisoned
    assert run.rc == 0, run.output
    assert run.project_files() == {POISONED: len(PYTHONS)}  # refetched, by hash from uv.lock
    for python in PYTHONS:
        log = run.cell_log(python)
        assert "Hash mismatch" in log and "fetching them" in log, log
        assert "base rewritten" in log  # a base file failed its hash: the base is rewritten
        assert runs.stored["poisoned"][python] == runs.poisoned_sha  # the real wheel, by uv.lock
    # the repaired base is saved, and the delta emptied into it
    assert saved_keys(run) == {*runs.keys.values(), *runs.delta_keys.values()}


def test_a_failing_test_fails_its_cell_and_the_pipeline(runs: Runs) -> None:
    run = runs.failing
    assert run.rc != 0
    assert run.failed() == ["uvci-test: [3.12]"] and run.passed() == ["uvci-test: [3.10]"]
    assert run.requests == ()
    assert saved_keys(run) == set()


def stored_links(cache: Path) -> list[str]:
    return [str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_symlink()]


def test_links_in_a_restored_cache_are_removed_never_followed_and_the_cell_passes(
    runs: Runs,
) -> None:
    run = runs.linked
    assert run.rc == 0, run.output
    assert sorted(run.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], run.output
    assert run.project_files() == {POISONED: len(PYTHONS)}  # only what the lock names, by hash
    for python in PYTHONS:
        log = run.cell_log(python)
        assert "entries of the restored cache under .uvci" in log, log
        assert "test_files_outside_the_project_are_intact" in log and "... ok" in log, log
        assert runs.stored["linked"][python] == runs.poisoned_sha  # a real file, not the link
    assert stored_links(runs.cache) == []  # the saved wheelhouse holds no link


def test_a_forged_manifest_removes_nothing_outside_the_wheelhouse_and_the_cell_passes(
    runs: Runs,
) -> None:
    run = runs.forged
    assert run.rc == 0, run.output
    assert sorted(run.passed()) == [f"uvci-test: [{p}]" for p in PYTHONS], run.output
    assert run.project_files() == {POISONED: len(PYTHONS)}
    for python in PYTHONS:
        log = run.cell_log(python)
        assert "test_the_checkout_is_intact" in log and "FAIL" not in log, log
        assert runs.stored["forged"][python] == runs.poisoned_sha


def test_a_delta_past_its_bound_rewrites_the_base_and_empties_the_delta(runs: Runs) -> None:
    run = runs.grown
    assert run.rc == 0, run.output
    assert run.project_files() == {BULK: len(PYTHONS)}
    assert saved_keys(run) == {*runs.keys.values(), *runs.delta_keys.values()}
    for python in PYTHONS:
        assert "base rewritten with the delta's files, delta emptied" in run.cell_log(python)
        assert f"{key(python)}/.uvci/wheels/{BULK}" in run.cache_after
        delta = [p for p in run.cache_after if p.startswith(f"{key(python, 'delta')}/")]
        assert not [p for p in delta if p.endswith(".whl")]
