"""`uvci plan` through the real command line: output, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "matrix-demo"


def uvci(*args: str) -> subprocess.CompletedProcess[str]:
    # The example is locked against the public index: drop the loopback default index the
    # hermetic test environment sets, or uv (rightly) calls that lock out of date.
    env = {k: v for k, v in os.environ.items() if k != "UV_DEFAULT_INDEX"}
    return subprocess.run(
        [sys.executable, "-m", "uvci", *args], capture_output=True, text=True, env=env, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".venv", ".uvci"))
    return dest


def test_json_document_of_the_example() -> None:
    result = uvci("plan", "--json", "--python", "3.10,3.12", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["python"] == ["3.10", "3.12"]
    assert doc["platform"] == "x86_64-manylinux_2_40"
    cells = {c["python"]: c for c in doc["cells"]}
    numpy = {py: next(p for p in c["packages"] if p["name"] == "numpy") for py, c in cells.items()}
    assert numpy["3.10"]["version"] != numpy["3.12"]["version"]
    assert "-cp310-" in numpy["3.10"]["file"] and "-cp312-" in numpy["3.12"]["file"]
    assert "tomli" in {p["name"] for p in cells["3.10"]["packages"]}
    assert "tomli" not in {p["name"] for p in cells["3.12"]["packages"]}
    for cell in doc["cells"]:
        wheels = [p for p in cell["packages"] if p["kind"] == "wheel"]
        assert cell["download_bytes"] == sum(p["size"] for p in wheels)
        assert all(len(p["sha256"]) == 64 and p["url"].startswith("https://") for p in wheels)
        assert cell["build_from_source"] == []
    assert set(doc["union"]) == {"files", "bytes"} and set(doc["shared"]) == {"files", "bytes"}
    assert doc["shared"]["bytes"] < doc["union"]["bytes"]


def test_table_output_names_cells_and_totals() -> None:
    result = uvci("plan", "--python", "3.11,3.13", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    doc = json.loads(uvci("plan", "--json", "--python", "3.11,3.13", str(EXAMPLE)).stdout)
    rows = {line.split()[1]: line.split()[3] for line in result.stdout.splitlines()
            if line.startswith("│") and line.split()[1] in ("3.11", "3.13")}  # fmt: skip
    assert rows == {c["python"]: str(len(c["packages"])) for c in doc["cells"]}
    union, shared = doc["union"], doc["shared"]
    assert f"union: {union['files']} files, {union['bytes'] / 1e6:,.1f} MB" in result.stdout
    assert f"shared by 2+ cells: {shared['files']} files" in result.stdout
    shared_layout = doc["layout"] == "shared"
    advice = "cache: one shared wheelhouse" if shared_layout else "cache: one wheelhouse per Python"
    assert advice in result.stdout


def test_missing_pyproject(tmp_path: Path) -> None:
    assert_one_line_error(uvci("plan", str(tmp_path)), "pyproject.toml: not found")


def test_missing_lock_says_uv_lock_creates_it(example: Path) -> None:
    (example / "uv.lock").unlink()
    assert_one_line_error(uvci("plan", str(example)), "uv.lock: not found", "uv lock")


def test_malformed_toml_names_file_and_line(example: Path) -> None:
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', "version = 0.1.0"))
    assert_one_line_error(uvci("plan", str(example)), "pyproject.toml:3:", "invalid TOML")


def test_unknown_lock_version(example: Path) -> None:
    lock = example / "uv.lock"
    lock.write_text(lock.read_text().replace("version = 1\n", "version = 7\n", 1))
    assert_one_line_error(uvci("plan", str(example)), "lock version 7 is not supported")


def test_stale_lock_is_refused_as_uv_sync_locked_would(example: Path) -> None:
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"rich>=13",', '"rich>=13", "click",'))
    assert_one_line_error(uvci("plan", str(example)), "out of date", "uv lock")


def test_other_uv_failures_are_reported_as_what_they_are(example: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "UV_DEFAULT_INDEX"}
    env["UV_HTTP_RETRIES"] = "lots"
    result = subprocess.run(
        [sys.executable, "-m", "uvci", "plan", str(example)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert_one_line_error(result, "uv lock --check --offline` failed", "UV_HTTP_RETRIES")
    assert "out of date" not in result.stderr


def test_required_uv_version_is_not_called_a_stale_lock(example: Path) -> None:
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.uv]\nrequired-version = ">=99"\n')
    assert_one_line_error(uvci("plan", str(example)), "required-version excludes the local uv")


@pytest.mark.parametrize(
    ("python", "needle"),
    [("2.7", "not a CPython release uv knows"), ("3.9", "excluded by requires-python")],
)
def test_bad_python(python: str, needle: str) -> None:
    assert_one_line_error(uvci("plan", "--python", python, str(EXAMPLE)), needle)


def test_unknown_platform() -> None:
    assert_one_line_error(
        uvci("plan", "--platform", "sparc-sun-solaris", str(EXAMPLE)), "unknown platform"
    )


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ('name = "matrix-demo"', "name = 3", ("pyproject.toml", "[project] name")),
        ('requires-python = ">=3.10"', "requires-python = 310", ("requires-python", "string")),
        ("classifiers = [", 'classifiers = "x"\nkeywords = [', ("[project] classifiers", "list")),
    ],
)
def test_pyproject_value_of_the_wrong_type(
    example: Path, old: str, new: str, needles: tuple[str, ...]
) -> None:
    pyproject = example / "pyproject.toml"
    assert old in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(old, new, 1))
    assert_one_line_error(uvci("plan", str(example)), *needles)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('name = "anyio"', 'nam = "anyio"', "package #1"),
        ("dependencies = [\n", "dependencies = [ 3,\n", "anyio"),
        ('requires-python = ">=3.10"', "requires-python = 3", "requires-python"),
        ("sdist = {", "sdist = 5\nx = {", "anyio"),
        ("wheels = [\n", 'wheels = [ "x",\n', "anyio"),
    ],
)
def test_malformed_lock_is_one_line_naming_the_package(
    example: Path, old: str, new: str, needle: str
) -> None:
    lock = example / "uv.lock"
    assert old in lock.read_text()
    lock.write_text(lock.read_text().replace(old, new, 1))
    assert_one_line_error(uvci("plan", str(example)), "uv.lock", needle, "uv lock")


def test_empty_python_list_is_refused() -> None:
    result = uvci("plan", "--python", ",", str(EXAMPLE))
    assert result.returncode == 2 and "--python" in result.stderr
    assert "Traceback" not in result.stderr


def test_cache_cost_per_cell_from_the_rates_given() -> None:
    def cost(index: str, cache: str) -> dict[str, Any]:
        argv = ["plan", "--json", "--python", "3.10,3.12", str(EXAMPLE)]
        result = uvci(*argv, "--index-rate", index, "--cache-rate", cache)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout)["cache_cost"])

    slow_cache = cost("100", "25")
    assert "cannot pay" in slow_cache["summary"]
    for cell in slow_cache["cells"]:
        assert cell["pays_after"] is None and cell["saves"] < 0
        assert cell["index_seconds"] == round(cell["index_bytes"] / 100e6, 3)
        assert cell["upload_seconds"] == round(cell["cache_bytes"] / 25e6, 3)
    slow_index = cost("5", "100")
    assert all(c["pays_after"] == 1 and c["saves"] > 0 for c in slow_index["cells"])


def test_one_rate_alone_is_refused() -> None:
    assert_one_line_error(uvci("plan", str(EXAMPLE), "--index-rate", "5"), "--cache-rate")
