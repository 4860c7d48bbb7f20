"""JUnit XML: one report per cell, synthesized when the test command writes none, and a merge.

pytest writes its own report (``--junitxml``). For any other command a report with one test
case is written from the exit code and the output. The merged report (``junit.xml``) holds every
cell's suites, renamed ``<python>: <suite>`` with test classes prefixed ``py3.12.``, so that GitLab
shows one row per test and Python.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from uvci.util.atomicfile import write_atomic

COUNTERS = ("tests", "failures", "errors", "skipped")
OUTPUT_LIMIT = 20_000  # characters of output kept in a synthesized report


def _write(path: Path, root: ET.Element) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _suite(name: str, case: ET.Element, counts: dict[str, int]) -> ET.Element:
    attrs = {"name": name, **{k: str(counts.get(k, 0)) for k in COUNTERS}, "time": "0"}
    suite = ET.Element("testsuite", attrs)
    suite.append(case)
    return suite


def write_synthesized(path: Path, python: str, command: str, rc: int, output: str) -> None:
    """A report of one case, ``command`` on ``python``: failed unless ``rc`` is 0."""
    case = ET.Element("testcase", {"classname": f"py{python}", "name": command})
    if rc != 0:
        failure = ET.SubElement(case, "failure", {"message": f"{command} exited {rc}"})
        failure.text = output[-OUTPUT_LIMIT:]
    ET.SubElement(case, "system-out").text = output[-OUTPUT_LIMIT:]
    counts = {"tests": 1, "failures": int(rc != 0)}
    _write(path, _wrap(_suite(command, case, counts)))


def write_skipped(path: Path, python: str, reason: str) -> None:
    """A cell that did not run (no interpreter, cancelled): one skipped case with the reason."""
    case = ET.Element("testcase", {"classname": f"py{python}", "name": "cell"})
    ET.SubElement(case, "skipped", {"message": reason})
    suite = _suite(f"python {python}", case, {"tests": 1, "skipped": 1})
    _write(path, _wrap(suite))


def write_error(path: Path, python: str, reason: str, output: str) -> None:
    """A cell whose environment could not be made: one case in error, with uv's output."""
    case = ET.Element("testcase", {"classname": f"py{python}", "name": "cell"})
    ET.SubElement(case, "error", {"message": reason}).text = output[-OUTPUT_LIMIT:]
    suite = _suite(f"python {python}", case, {"tests": 1, "errors": 1})
    _write(path, _wrap(suite))


def _wrap(suite: ET.Element) -> ET.Element:
    root = ET.Element("testsuites")
    root.append(suite)
    return root


def read_suites(path: Path) -> list[ET.Element]:
    """The ``<testsuite>`` elements of a report (root ``<testsuites>`` or ``<testsuite>``)."""
    root = ET.parse(path).getroot()
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def _relabel(suite: ET.Element, python: str) -> ET.Element:
    suite.set("name", f"{python}: {suite.get('name', 'tests')}")
    for case in suite.iter("testcase"):
        classname = case.get("classname", "")
        if not classname.startswith(f"py{python}"):
            case.set("classname", f"py{python}.{classname}" if classname else f"py{python}")
    return suite


def merge(reports: Sequence[tuple[str, Path]], target: Path) -> None:
    """Write ``target`` with every suite of ``reports`` (``(python, path)``), totals summed."""
    root = ET.Element("testsuites", {"name": "uvci run"})
    totals = dict.fromkeys(COUNTERS, 0)
    elapsed = 0.0
    for python, path in reports:
        for suite in read_suites(path):
            root.append(_relabel(suite, python))
            for key in COUNTERS:
                totals[key] += int(suite.get(key, "0") or 0)
            elapsed += float(suite.get("time", "0") or 0)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{elapsed:.3f}")
    _write(target, root)
