"""Platform wheels in the trixie images: each cell installs exactly the files the plan chose.

The ``compiled`` project pins one wheel per CPython (``fastcalc``), abi3 wheels
(``stablecalc``) and a package whose best wheel needs glibc 2.39 (``glibcpick``): the images run
Debian trixie (glibc 2.41), so the default platform, ``x86_64-manylinux_2_40``, picks that
wheel, and the hash-checked offline install in each cell must accept exactly what ``uvci
prefetch --cell`` fetched for it, run by the cell's own interpreter. The first pipeline's tests
fail: what its cells fetched is saved all the same, and the next pipeline fetches nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import generated_in_containers
from tests.support.images import Images
from uvci.planning import make_plan

pytestmark = pytest.mark.slow

PYTHONS = ("3.11", "3.13")
TEST_COMMAND = "python -m unittest discover -s tests"
FAILING = """

class Failing(unittest.TestCase):
    def test_fails(self) -> None:
        self.fail("made to fail")
"""


def test_each_cell_installs_the_wheels_planned_for_its_python(
    tmp_path: Path, container_images: Images
) -> None:
    args = ("--test-command", TEST_COMMAND)
    with generated_in_containers(tmp_path, container_images, "compiled", PYTHONS, *args) as run:
        plan = make_plan(run.project, python=PYTHONS, check_lock=False)
        tests = run.project / "tests" / "test_compiled.py"
        passing = tests.read_text()
        tests.write_text(passing + FAILING)
        run.commit("a failing test")
        failing = run.run()  # cold, and the tests fail
        tests.write_text(passing)
        run.commit("the test fixed")
        cold, warm = run.run(), run.run()
    assert failing.rc != 0 and failing.passed() == [], failing.output
    assert cold.rc == 0, cold.output
    assert cold.requests == ()  # the failed pipeline's fill was saved (cache when: always)
    planned: dict[str, int] = {}
    for cell in plan.cells:
        for package in cell.packages:
            if package.downloads and package.file:
                planned[package.file] = planned.get(package.file, 0) + 1
    assert any("manylinux_2_39" in name for name in planned)  # glibc 2.39: fits trixie only
    assert failing.project_files() == planned  # each cell fetched its planned files, once
    assert warm.rc == 0 and warm.requests == (), warm.output
    for python in PYTHONS:
        log = warm.cell_log(python)
        assert "installed offline from the restored wheelhouse" in log, log
