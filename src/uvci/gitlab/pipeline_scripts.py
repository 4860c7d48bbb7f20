"""The shell lines of the generated jobs (POSIX sh: GitLab runs them with bash or sh).

Each function returns the script items of one step, so the job builders stay declarative and
the commands can be unit-tested on their own.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from uvci.wheelhouse import offline_install_command

WHEELHOUSE = ".uvci/wheels"
VENV = ".uvci/venv"
VENV_PYTHON = f"{VENV}/bin/python"
DIST = ".uvci/dist"
JUNIT = ".uvci/junit.xml"
UNCHANGED_ASIDE = ".uvci/unchanged"

_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./*-]+")
_PYTEST = re.compile(r"^(pytest|py\.test|python3? -m pytest)(\s|$)")


def sh_quote(arg: str) -> str:
    """Quote for sh, leaving ``$VAR`` expansions and ``*`` globs working."""
    if _PLAIN.fullmatch(arg):
        return arg
    if "$" in arg and not re.search(r'["`\\]', arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def sh_join(argv: Sequence[str]) -> str:
    return " ".join(sh_quote(a) for a in argv)


def uvx_probe(spec_var: str = "$UVCI_SPEC") -> str:
    """Pick ``uvx --offline`` when the restored uv cache already holds uvci (no index request)."""
    return (
        f'if uvx --offline --from "{spec_var}" uvci --version >/dev/null 2>&1; then\n'
        '  UVX="uvx --offline"; echo "uvci: running uvci from the restored uv cache"\n'
        "else\n"
        f'  UVX="uvx"; mkdir -p .uvci && touch {TOOL_CACHE_NEW}\n'
        "fi"
    )


def prefetch_command(plan_args: Sequence[str], cells: Sequence[str] = ()) -> str:
    """``$UVX --from "$UVCI_SPEC" uvci prefetch <plan args> [--cell C]``."""
    argv = ["uvci", "prefetch", *plan_args]
    for cell in cells:
        argv += ["--cell", cell]
    return '$UVX --from "$UVCI_SPEC" ' + sh_join(argv)


LOCK_STAMP = f"{WHEELHOUSE}.lock-sha256"
_LOCK_SHA = "$(sha256sum uv.lock | cut -d' ' -f1)"


TOOL_CACHE_NEW = ".uvci/tool-cache.new"
BUILD_CACHE_NEW = ".uvci/build-cache.new"


def skip_unchanged_caches() -> str:
    """Move unchanged cache paths out of the way, so the runner finds nothing to upload.

    The wheelhouse is unchanged when ``uvci prefetch`` says so *and* it was saved for this very
    uv.lock (``LOCK_STAMP``); restored through a fallback key for another lock, it is saved.
    """
    return (
        f"if [ -f {WHEELHOUSE}.unchanged ] && "
        f'[ "$(cat {LOCK_STAMP} 2>/dev/null)" = "{_LOCK_SHA}" ]; then\n'
        f'  echo "uvci: wheelhouse unchanged: not saving it"; mkdir -p {UNCHANGED_ASIDE}\n'
        f"  mv {WHEELHOUSE} {LOCK_STAMP} {UNCHANGED_ASIDE}/\n"
        "else\n"
        f'  echo "{_LOCK_SHA}" > {LOCK_STAMP}; echo "uvci: wheelhouse changed: saving it"\n'
        "fi\n" + skip_unchanged_uv_cache(TOOL_CACHE_NEW)
    )


def skip_unchanged_uv_cache(marker: str) -> str:
    """uv's cache is saved only by the run that had to fill it (``marker`` exists)."""
    return (
        f"if [ ! -f {marker} ]; then\n"
        f'  echo "uvci: uv cache unchanged: not saving it"; mkdir -p {UNCHANGED_ASIDE}\n'
        f'  mv "$UV_CACHE_DIR" {UNCHANGED_ASIDE}/uv-cache 2>/dev/null || true\n'
        "fi"
    )


def _cell_fetch(plan_args: Sequence[str]) -> str:
    return prefetch_command(plan_args, ["$PYTHON"]).replace("$UVX", "uvx", 1)


def wheelhouse_guard(plan_args: Sequence[str]) -> str:
    """A wheelhouse not saved for this uv.lock (or none) is filled here for this cell only (and
    never saved: cells are pull-only)."""
    return (
        f'if [ "$(cat {LOCK_STAMP} 2>/dev/null)" != "{_LOCK_SHA}" ]; then\n'
        '  echo "uvci: no wheelhouse for this uv.lock was restored; fetching this cell\'s files"\n'
        f"  {_cell_fetch(plan_args)}\n"
        "fi"
    )


def offline_install(plan_args: Sequence[str]) -> str:
    """The offline install; uv checks every file against its hash in the requirements. If it
    fails (a damaged or missing file), ``uvci prefetch --cell`` re-checks the cell's files by
    hash and fetches the bad ones, and the install runs once more."""
    install = sh_join(["uv", *offline_install_command(Path(WHEELHOUSE), "$PYTHON", VENV_PYTHON)])
    return (
        f"if ! {install}; then\n"
        "  echo \"uvci: the install from the restored wheelhouse failed; checking this cell's"
        ' files by hash and fetching the bad ones"\n'
        f"  {_cell_fetch(plan_args)}\n"
        f"  {install}\n"
        "fi"
    )


def build_wheels(directories: Sequence[str]) -> str:
    """``uv build --wheel`` of each package: offline first, from the build backend in the
    restored uv cache; else from the index (and the uv cache is marked for saving)."""

    def builds(*flags: str) -> str:
        argv = ["uv", "build", *flags, "--wheel", "--out-dir", DIST]
        return " && ".join(sh_join([*argv, d]) for d in directories)

    return (
        f"if {builds('--offline')}; then\n"
        '  echo "uvci: built with the build backend from the restored uv cache"\n'
        "else\n"
        '  echo "uvci: the build backend is not in the restored uv cache: fetching it"\n'
        f"  rm -rf {DIST}; mkdir -p .uvci && touch {BUILD_CACHE_NEW}\n"
        f"  {builds()}\n"
        "fi"
    )


def install_built_wheels() -> str:
    argv = ["uv", "pip", "install", "--python", VENV_PYTHON, "--offline", "--no-index"]
    return sh_join([*argv, "--no-deps", f"{DIST}/*.whl"])


def install_from_source(directories: Sequence[str]) -> str:
    argv = ["uv", "pip", "install", "--python", VENV_PYTHON, "--no-deps"]
    return sh_join([*argv, *directories])


def activate() -> str:
    return f'export VIRTUAL_ENV="$PWD/{VENV}" PATH="$PWD/{VENV}/bin:$PATH"'


def is_pytest(command: str) -> bool:
    return _PYTEST.match(command.strip()) is not None


def run_tests(command: str, pytest_junit: bool | None = None) -> str:
    """The test command; pytest writes the JUnit report, anything else gets a one-case report."""
    if is_pytest(command) if pytest_junit is None else pytest_junit:
        return f"{command} --junitxml={JUNIT}"
    return (
        "uvci_rc=0\n"
        f"{command} || uvci_rc=$?\n"
        'if [ "$uvci_rc" -eq 0 ]; then uvci_fail=0; uvci_case="";\n'
        'else uvci_fail=1; uvci_case="<failure message=\\"exit code $uvci_rc\\"/>"; fi\n'
        'printf \'<?xml version="1.0" encoding="utf-8"?>\\n<testsuites><testsuite '
        'name="python-%s" tests="1" failures="%s"><testcase classname="python-%s" '
        'name="test command">%s</testcase></testsuite></testsuites>\\n\' '
        f'"$PYTHON" "$uvci_fail" "$PYTHON" "$uvci_case" > {JUNIT}\n'
        'exit "$uvci_rc"'
    )
