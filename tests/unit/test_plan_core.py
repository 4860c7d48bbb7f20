"""The lock walk and wheel choice on a hand-written lock (tests/data/locks/forked)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from uvci.commands.plan import unavailable_message
from uvci.errors import FatalError
from uvci.model.plan import Plan
from uvci.model.selection import Selection
from uvci.planning import make_plan

FORKED = Path(__file__).parents[1] / "data" / "locks" / "forked"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def plan(**kwargs: object) -> Plan:
    kwargs.setdefault("python", PYTHONS)
    return make_plan(FORKED, check_lock=False, **kwargs)  # type: ignore[arg-type]


def files(p: Plan, python: str) -> dict[str, str | None]:
    cell = next(c for c in p.cells if c.python == python)
    return {pkg.name: pkg.file for pkg in cell.packages}


def test_forks_pick_the_version_locked_for_each_python() -> None:
    p = plan()
    versions = {c.python: next(x.version for x in c.packages if x.name == "numpy") for c in p.cells}
    assert versions == {"3.10": "1.26.4", "3.11": "1.26.4", "3.12": "2.1.0", "3.13": "2.1.0"}


def test_most_specific_wheel_wins() -> None:
    p = plan()
    assert files(p, "3.10")["numpy"] == (
        "numpy-1.26.4-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    # manylinux_2_28 ranks above manylinux_2_17; the cp312 ABI above abi3.
    assert files(p, "3.12")["numpy"] == (
        "numpy-2.1.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    )
    # No cp313 wheel: abi3 built for cp312 beats abi3 built for cp310.
    assert files(p, "3.13")["numpy"] == "numpy-2.1.0-cp312-abi3-manylinux_2_17_x86_64.whl"


def test_no_fitting_wheel_falls_back_to_the_sdist_and_is_flagged() -> None:
    p = plan(platform="aarch64-manylinux_2_28")
    cell = {c.python: c for c in p.cells}
    assert files(p, "3.11")["numpy"] == (
        "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    )
    assert files(p, "3.10")["numpy"] == "numpy-1.26.4.tar.gz"
    assert "numpy" in cell["3.10"].build_from_source
    assert "srconly" in cell["3.11"].build_from_source


def test_musl_and_windows_targets() -> None:
    assert files(plan(platform="x86_64-unknown-linux-musl"), "3.10")["numpy"] == (
        "numpy-1.26.4-cp310-cp310-musllinux_1_1_x86_64.whl"
    )
    windows = plan(platform="x86_64-pc-windows-msvc")
    assert files(windows, "3.10")["numpy"] == "numpy-1.26.4-cp310-cp310-win_amd64.whl"
    assert "winonly" in files(windows, "3.12")
    assert "winonly" not in files(plan(), "3.12")


def test_markers_on_python_version() -> None:
    p = plan()
    assert "oldpy" in files(p, "3.10")
    assert "oldpy" not in files(p, "3.11")


def test_default_groups_extras_and_groups() -> None:
    default = files(plan(), "3.12")
    assert "testy" in default and "docsy" not in default and "httpish" not in default
    assert "testy" not in files(plan(selection=Selection(no_dev=True)), "3.12")
    with_extra = files(plan(selection=Selection(extras=("http",))), "3.12")
    assert {"httpish", "socksy"} <= set(with_extra)
    everything = files(plan(selection=Selection(all_extras=True, all_groups=True)), "3.12")
    assert {"httpish", "socksy", "docsy", "testy"} <= set(everything)


def test_only_group_installs_neither_project_nor_its_dependencies() -> None:
    only = files(plan(selection=Selection(only_groups=("docs",))), "3.12")
    assert set(only) == {"docsy"}


def test_workspace_members_are_local_and_free() -> None:
    p = plan()
    cell = p.cells[0]
    kinds = {x.name: x.kind for x in cell.packages}
    assert kinds["demo"] == "local" and kinds["member"] == "local"
    assert "purelib" in kinds  # the member's own dependency
    assert all(x.size == 0 for x in cell.packages if x.kind == "local")


def test_bytes_union_and_shared() -> None:
    p = plan(python=["3.12", "3.13"], selection=Selection(no_dev=True))
    by = {c.python: c.download_bytes for c in p.cells}
    # numpy wheel + purelib wheel + srconly sdist (oldpy/winonly excluded)
    assert by == {"3.12": 2002 + 40 + 500, "3.13": 2003 + 40 + 500}
    assert p.union.bytes == 2002 + 2003 + 40 + 500 and p.union.files == 4
    assert p.shared.bytes == 540 and p.shared.files == 2
    doc = p.to_json()
    assert doc["union"] == {"files": 4, "bytes": 4545}
    assert doc["cells"][0]["build_from_source"] == ["srconly"]


def test_unknown_group_and_extra_are_clear_errors() -> None:
    with pytest.raises(FatalError, match="no dependency group nope"):
        plan(selection=Selection(groups=("nope",)))
    with pytest.raises(FatalError, match="no optional-dependencies extra nope"):
        plan(selection=Selection(extras=("nope",)))


def test_default_matrix_is_maintained_pythons_allowed() -> None:
    p = make_plan(FORKED, check_lock=False, today=dt.date(2026, 11, 21))
    assert p.pythons == ("3.11", "3.12", "3.13", "3.14")  # 3.15: maintained, no image yet
    assert any("Python 3.15 left out of the default matrix" in note for note in p.notes)
    p = make_plan(FORKED, check_lock=False, today=dt.date(2025, 6, 1))
    assert p.pythons == ("3.10", "3.11", "3.12", "3.13")


def test_a_package_with_no_fitting_file_is_unavailable_and_named() -> None:
    native = Selection(groups=("native",))
    linux = plan(python=["3.12"], selection=native)
    assert unavailable_message(linux) is None
    assert linux.to_json()["cells"][0]["unavailable"] == []
    windows = plan(python=["3.12", "3.13"], selection=native, platform="x86_64-pc-windows-msvc")
    assert [c.unavailable for c in windows.cells] == [("linuxonly",), ("linuxonly",)]
    message = unavailable_message(windows)
    assert message is not None
    assert "Python 3.12: linuxonly; Python 3.13: linuxonly" in message
    assert "x86_64-pc-windows-msvc" in message
    linux_313 = plan(python=["3.13"], selection=native)  # only a cp312 wheel: no fit on 3.13
    assert linux_313.cells[0].unavailable == ("linuxonly",)


def test_one_default_matrix_for_plan_generate_run_and_the_component() -> None:
    from uvci.gitlab.generate import catalog, images
    from uvci.model.project import IMAGED, IMAGED_AS_OF, default_pythons

    for variant in images.PUBLISHED.values():
        assert set(IMAGED) <= set(variant), "the default matrix has a Python with no image"
    assert str(IMAGED_AS_OF) == images.CHECKED  # one date: the image table read once
    assert default_pythons(IMAGED_AS_OF) == catalog.DEFAULT_PYTHONS
    p = make_plan(FORKED, check_lock=False, today=IMAGED_AS_OF)
    assert p.pythons == catalog.DEFAULT_PYTHONS
