"""uvci.runner.junit: synthesized, skipped and merged reports (parsed back with ElementTree)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from uvci.runner import junit

PYTEST_REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest"
 errors="0" failures="1" skipped="0" tests="2" time="0.5"><testcase classname="tests.test_a"
 name="test_ok" time="0.1"/><testcase classname="tests.test_a" name="test_bad" time="0.1">
<failure message="assert 1 == 2">trace</failure></testcase></testsuite></testsuites>"""


def test_synthesized_report_of_a_failing_command(tmp_path: Path) -> None:
    path = tmp_path / "junit-3.12.xml"
    junit.write_synthesized(path, "3.12", "python -m unittest", 1, "Traceback: boom\n")
    suite = junit.read_suites(path)[0]
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    case = suite.find("testcase")
    assert case is not None and case.get("classname") == "py3.12"
    failure = case.find("failure")
    assert failure is not None and "boom" in (failure.text or "")
    assert failure.get("message") == "python -m unittest exited 1"


def test_synthesized_report_of_a_passing_command_has_no_failure(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    junit.write_synthesized(path, "3.10", "tox", 0, "ok")
    suite = junit.read_suites(path)[0]
    assert suite.get("failures") == "0" and suite.find("testcase/failure") is None


def test_skipped_cell_report_carries_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    junit.write_skipped(path, "3.15", "no Python 3.15 installed")
    skipped = junit.read_suites(path)[0].find("testcase/skipped")
    assert skipped is not None and skipped.get("message") == "no Python 3.15 installed"


def test_merge_relabels_per_python_and_sums_counts(tmp_path: Path) -> None:
    first, second, third = tmp_path / "a.xml", tmp_path / "b.xml", tmp_path / "c.xml"
    first.write_text(PYTEST_REPORT)
    second.write_text(PYTEST_REPORT.replace("<testsuites>", "").replace("</testsuites>", ""))
    junit.write_skipped(third, "3.15", "missing")
    target = tmp_path / "out" / "junit.xml"
    junit.merge([("3.12", first), ("3.13", second), ("3.15", third)], target)
    root = ET.parse(target).getroot()
    assert [s.get("name") for s in root] == ["3.12: pytest", "3.13: pytest", "3.15: python 3.15"]
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "2", "1")
    classes = {c.get("classname") for c in root.iter("testcase")}
    assert classes == {"py3.12.tests.test_a", "py3.13.tests.test_a", "py3.15"}
    assert not list(target.parent.glob(".*.tmp"))  # written atomically, nothing left over


def test_a_cell_in_error_is_an_error_case_with_the_output(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    junit.write_error(path, "3.11", "offline install failed (exit 2)", "no wheel for gamma")
    suite = junit.read_suites(path)[0]
    error = suite.find("testcase/error")
    assert suite.get("errors") == "1" and error is not None
    assert error.get("message") == "offline install failed (exit 2)"
    assert error.text == "no wheel for gamma"
