"""The shell lines of the generated jobs (POSIX sh: GitLab runs them with bash or sh).

Each function returns the script item of one step, so the job builders stay declarative and
the commands can be unit-tested on their own. What a cell installs always comes from the
checked-out ``uv.lock`` (``uv export``, hashes included); the restored wheelhouse only supplies
files, which uv checks against those hashes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from uvci.gitlab.generate.toolenv import NOT_IMPORTED_BY_PREFETCH
from uvci.model.testcommand import is_pytest

# The restored wheelhouses, the only cached paths under .uvci/ (every other file there is made
# by the job): a large base, rarely rewritten, and a small delta that takes what new locks add
# (uvci.wheelhouse.layers). uv reads --find-links from both.
WHEELHOUSE = ".uvci/wheels"  # the base
DELTA = ".uvci/wheels-delta"
WHEELHOUSES = (WHEELHOUSE, DELTA)
# uv's cache and the cell's venvs: out of the build source (uv >= 0.11.26 warns about a cache
# inside it), beside the checkout so both share one file system and installs hard-link.
WORK = "$uvci_work"
WORK_DIR = "${CI_PROJECT_DIR:-$PWD}.uvci"
VENV = f"{WORK}/venv"
VENV_PYTHON = f"{VENV}/bin/python"
DIST = ".uvci/dist"
JUNIT = ".uvci/junit.xml"
REQUIREMENTS = ".uvci/requirements.txt"
BUILD_REQUIREMENTS = ".uvci/build-requirements.txt"
OFFLINE_LOG = ".uvci/offline-install.log"  # uv's output of the first, offline attempt
UNCHANGED_ASIDE = ".uvci/unchanged"
CHANGED_SUFFIX = ".changed"  # W.changed exists when this job changed wheelhouse W
CLEANED_SUFFIX = ".cleaned"  # W.cleaned: the clean-up removed what a restored cache planted in W
CHANGED = WHEELHOUSE + CHANGED_SUFFIX
FILLED_FOR = ".uvci/wheels.filled-for"  # shared layout: sha256 of the locks the writer filled for
# every path under .uvci/ that a cache restores (a clean-up of .uvci/ at the job's start keeps
# exactly these; pipeline.cache_paths says which cache holds which)
RESTORED_PATHS = (*WHEELHOUSES, FILLED_FOR)
REMEMBERED_LOCKS = 2  # the current lock and the one before (--retain 2x keeps about both)
TOOL_VENV = f"{WORK}/tool"  # uvci, installed only by a cell that must fetch
TOOL_REQUIREMENTS = ".uvci/tool-requirements.txt"

_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./*-]+")


class Raw(str):
    """A word left as it is (never quoted): a CI/CD input interpolated before the shell runs,
    e.g. ``$[[ inputs.uv-sync-flags ]]``, which may be several words or none."""

    __slots__ = ()


def sh_quote(arg: str) -> str:
    """Quote for sh, leaving ``$VAR`` expansions and ``*`` globs working."""
    if isinstance(arg, Raw) or _PLAIN.fullmatch(arg):
        return arg
    if "$" in arg and not re.search(r'["`\\]', arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def sh_join(argv: Sequence[str]) -> str:
    return " ".join(sh_quote(a) for a in argv)


def export_requirements(selection: Sequence[str], build_env: str | None) -> str:
    """What the cell installs, from the checked-out uv.lock with its hashes (never the cache).

    Markers stay in the file: uv evaluates them against the cell's own interpreter.
    ``--locked``: a uv.lock out of date with pyproject.toml fails the cell, as ``uv sync
    --locked`` would (a fresh lock is checked without building or asking the index).
    """
    common = ["uv", "export", "--locked", "--quiet", "--no-header"]
    lines = [sh_join([*common, "--no-emit-local", *selection, "-o", REQUIREMENTS])]
    if build_env is not None:
        argv = [*common, "--project", build_env, "--no-emit-project", "-o", BUILD_REQUIREMENTS]
        lines.append(sh_join(argv))
    else:
        lines.append(f": > {BUILD_REQUIREMENTS}")
    return "\n".join(lines)


def _find_links() -> list[str]:
    return [word for path in WHEELHOUSES for word in ("--find-links", path)]


def _offline(*argv: str) -> list[str]:
    return ["uv", *argv, "--offline", "--no-index", *_find_links()]


def work_dirs() -> str:
    """The job's own directories: uv's cache and the venvs beside the checkout (made anew:
    a runner's builds volume may keep them from another job), both wheelhouses present so uv
    can read them even when no cache was restored."""
    return (
        f'uvci_work="{WORK_DIR}"\n'
        f'rm -rf "$uvci_work" && mkdir -p "$uvci_work" {" ".join(WHEELHOUSES)}\n'
        'export UV_CACHE_DIR="$uvci_work/uv-cache"'
    )


def _build_flags() -> list[str]:
    return ["--build-constraint", BUILD_REQUIREMENTS, "--require-hashes"]


def install_function(builds: Sequence[str], prebuilt: bool) -> str:
    """``uvci_install``: the dependencies, then the project's own packages, all offline.

    ``builds``: directories built here into wheels (with the build backend pinned by hash in
    the build requirements); ``prebuilt``: install the wheels a build job left in ``DIST``.
    """
    pip = [*_offline("pip", "install", "--python", VENV_PYTHON), *_build_flags()]
    steps = [sh_join([*pip, "-r", REQUIREMENTS])]
    if builds:
        steps.append(f"rm -rf {DIST}")
        steps += [build_command(d, offline=True) for d in builds]
    if builds or prebuilt:
        install = ["uv", "pip", "install", "--python", VENV_PYTHON, "--offline", "--no-index"]
        steps.append(sh_join([*install, "--no-deps", f"{DIST}/*.whl"]))
    body = " &&\n  ".join(steps)
    return f"uvci_install() {{\n  {body}\n}}"


def build_command(directory: str, offline: bool) -> str:
    argv = _offline("build") if offline else ["uv", "build", *_find_links()]
    return sh_join([*argv, *_build_flags(), "--wheel", "--out-dir", DIST, directory])


def prefetch_command(
    plan_args: Sequence[str],
    cells: Sequence[str],
    extra: Sequence[str],
    tool_env: str | None,
    hashed_url: bool = False,
) -> str:
    """``uvci prefetch ...``: with ``tool_env``, the uvci locked there (:func:`tool_function`),
    which also keeps its own wheels in the wheelhouse; with ``hashed_url``, the wheel
    ``$UVCI_SPEC`` names with its hash (:func:`url_tool_function`); else uvci's own checkout,
    ``uvx --from "$UVCI_SPEC"`` (``.``). The fill takes the base as it is and fetches what it
    lacks into the delta (``--base``)."""
    argv = ["uvci", "prefetch", *plan_args, "--base", WHEELHOUSE, "--wheelhouse", DELTA]
    for cell in cells:
        argv += ["--cell", cell]
    if tool_env is None and not hashed_url:
        return 'uvx --from "$UVCI_SPEC" ' + sh_join([*argv, *extra])
    argv[0] = f"{TOOL_VENV}/bin/uvci"
    tail = [] if tool_env is None else ["--tool-env", tool_env]
    return "uvci_tool && " + sh_join([*argv, *extra, *tail])


def url_tool_function() -> str:
    """``uvci_tool``: the uvci wheel ``$UVCI_SPEC`` names, ``uvci @ URL#sha256=HEX``, installed
    with ``uv pip install -r``, which checks the fragment's hash (``uvx --from`` ignores it).
    Anything else in ``$UVCI_SPEC`` (a catalog component's input) is refused: never an install
    that an index resolves by name."""
    venv = ["uv", "venv", "--quiet", "--clear", "--python", "$PYTHON", TOOL_VENV]
    pip = ["uv", "pip", "install", "--python", f"{TOOL_VENV}/bin/python", "-r", TOOL_REQUIREMENTS]
    return (
        "uvci_tool() {\n"
        "  uvci_hash=${UVCI_SPEC##*#sha256=}\n"
        '  case "$UVCI_SPEC" in "uvci @ http"*"#sha256=$uvci_hash") ;; *) uvci_hash= ;; esac\n'
        '  case "${UVCI_SPEC#uvci @ }" in *[[:space:]]*) uvci_hash= ;; esac\n'
        '  case "${UVCI_SPEC%#sha256=*}" in *"#"*) uvci_hash= ;; esac\n'
        '  case "$uvci_hash" in *[!0-9a-f]*) uvci_hash= ;; esac\n'
        '  if [ "${#uvci_hash}" -ne 64 ]; then\n'
        "    echo \"uvci: UVCI_SPEC must be a uvci wheel pinned by its hash, 'uvci @ https://..."
        "/uvci-X.Y.Z-py3-none-any.whl#sha256=<64 hex>' (docs/release.md)\"\n"
        "    return 2\n"
        "  fi\n"
        f"  printf '%s\\n' \"$UVCI_SPEC\" > {TOOL_REQUIREMENTS} &&\n"
        f"  {sh_join(venv)} &&\n"
        f"  {sh_join(pip)}\n"
        "}"
    )


def tool_function(tool_env: str) -> str:
    """``uvci_tool``: uvci as ``tool_env/uv.lock`` pins it, hashes committed with the pipeline.

    Offline from the wheelhouse when an earlier fill kept uvci's wheels there; else from the
    index the lock names, every package pinned (``--no-deps``): no resolution, only downloads,
    and none of the dependencies ``uvci prefetch`` never imports.
    ``--no-config``: the project's own uv settings (``exclude-newer``...) are not uvci's."""
    export = ["uv", "export", "--locked", "--quiet", "--no-header", "--project", tool_env]
    export += ["--no-emit-project", "--emit-index-url", "-o", TOOL_REQUIREMENTS]
    for name in NOT_IMPORTED_BY_PREFETCH:
        export += ["--no-emit-package", name]
    venv = ["uv", "venv", "--quiet", "--clear", "--python", "$PYTHON", TOOL_VENV]
    pip = ["uv", "pip", "install", "--no-config", "--python", f"{TOOL_VENV}/bin/python"]
    pip += ["--require-hashes", "--no-deps", "-r", TOOL_REQUIREMENTS]
    offline = sh_join([*pip, "--quiet", "--offline", "--no-index", *_find_links()])
    return (
        "uvci_tool() {\n"
        f"  {sh_join(export)} &&\n"
        f"  {sh_join(venv)} &&\n"
        f"  {{ {offline} 2>/dev/null || {{\n"
        '    echo "uvci: uvci is not in the wheelhouse yet: installing it from the index"\n'
        f"    {sh_join(pip)}; }}; }}\n"
        "}"
    )


def fill_function(fill: str) -> str:
    """``uvci_fill``: ``fill`` (``uvci prefetch``), then ``W.changed`` for each wheelhouse W
    it changed (it writes ``W.unchanged`` for the others)."""
    return (
        "uvci_fill() {\n"
        f"  {fill} || return\n"
        f"  for uvci_w in {' '.join(WHEELHOUSES)}; do\n"
        f'    [ -f "$uvci_w.unchanged" ] || touch "$uvci_w{CHANGED_SUFFIX}"\n'
        "  done\n"
        "}"
    )


def restored() -> str:
    """True when a cache restored anything into a wheelhouse (its names only: no record read)."""
    listed = "".join(f"$(ls -A {path})" for path in WHEELHOUSES)
    return f'[ -n "{listed}" ]'


def install_or_fill() -> str:
    """Install offline; if no wheelhouse was restored, or one lacks a file or fails its hash,
    ``uvci_fill`` fetches what they lack (verified against uv.lock) and the install runs once
    more. Every line the log shows is true: a cold cell shows no uv error, and uv's answer to
    a failed offline attempt is quoted as uv's."""
    return (
        f"if ! {restored()}; then\n"
        '  echo "uvci: no wheelhouse was restored (a new cache key, or the cache expired):'
        ' fetching what uv.lock pins"\n'
        "  uvci_fill\n"
        '  echo "uvci: installing offline from the wheelhouse this job filled"\n'
        "  uvci_install\n"
        f"elif uvci_install 2> {OFFLINE_LOG}; then\n"
        f"  cat {OFFLINE_LOG} >&2\n"
        '  echo "uvci: installed offline from the ${uvci_from:-restored wheelhouse}"\n'
        "else\n"
        f"  sed 's/^/  uv: /' {OFFLINE_LOG}\n"
        '  echo "uvci: the wheelhouse lacks files for this uv.lock (or one failed its hash, as uv'
        ' says above): fetching them"\n'
        "  uvci_fill\n"
        "  uvci_install\n"
        "fi"
    )


def writer_fill() -> str:
    """Shared layout, the writer cell: fill for every cell unless the wheelhouse was filled for
    this uv.lock lately (the sha256 of the last ``REMEMBERED_LOCKS`` locks it filled for: two
    branches whose locks differ refill nothing). A hint only: each cell's install still checks
    every hash, and a writer that lacks a file fills for every cell again. ``FILLED_FOR`` is
    cached with the delta: a new lock uploads the delta, never the base alone."""
    remembered = f"head -n {REMEMBERED_LOCKS - 1} {FILLED_FOR} 2>/dev/null || true"
    return (
        "uvci_lock=$(sha256sum uv.lock | cut -d ' ' -f 1)\n"
        f'if ! grep -qsx "$uvci_lock" {FILLED_FOR}; then\n'
        '  echo "uvci: filling the shared wheelhouse for every cell of this uv.lock"\n'
        "  uvci_fill\n"
        f'  {{ echo "$uvci_lock"; {remembered}; }} > {FILLED_FOR}.new\n'
        f"  mv {FILLED_FOR}.new {FILLED_FOR} && touch {DELTA}{CHANGED_SUFFIX}\n"
        '  uvci_from="wheelhouse this job filled"\n'
        "fi"
    )


_ROLE = {WHEELHOUSE: "base wheelhouse", DELTA: "delta wheelhouse"}


def keep_if_changed(caches: Sequence[Sequence[str]]) -> str:
    """Leave each cache's paths for the runner to upload only when this job changed them
    (``W.changed`` for the cache's first path W, or ``W.cleaned``: the clean-up step removed
    what the restored cache planted there).

    Otherwise they move aside: the runner finds nothing to upload ("no files to cache").
    """
    steps = []
    for paths in caches:
        what = f"the {_ROLE.get(paths[0], 'wheelhouse')} ({paths[0]})"
        steps.append(
            f"if [ -f {paths[0]}{CHANGED_SUFFIX} ] || [ -f {paths[0]}{CLEANED_SUFFIX} ]; then\n"
            f'  echo "uvci: {what} changed: the runner saves it"\n'
            "else\n"
            f'  echo "uvci: {what} is unchanged: nothing to upload"\n'
            f"  mkdir -p {UNCHANGED_ASIDE} && mv {' '.join(paths)} {UNCHANGED_ASIDE}/ 2>/dev/null"
            " || true\n"
            "fi"
        )
    return "\n".join(steps)


def build_once(directories: Sequence[str]) -> str:
    """The build job: offline from the restored wheelhouse, else from the index; either way uv
    checks the build backend against the hashes committed with the pipeline."""
    offline = " &&\n  ".join(build_command(d, offline=True) for d in directories)
    online = " &&\n  ".join(build_command(d, offline=False) for d in directories)
    return (
        f"if ! {{ {offline}; }}; then\n"
        '  echo "uvci: the build backend is not in the restored wheelhouse: fetching it"\n'
        f"  rm -rf {DIST}\n"
        f"  {online}\n"
        "fi"
    )


def activate() -> str:
    return f'export VIRTUAL_ENV="{VENV}" PATH="{VENV}/bin:$PATH"'


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


COVERAGE_XML = ".uvci/coverage.xml"
# pytest-cov's terminal report, `TOTAL ... 87%` (GitLab's documented expression, `%` unescaped)
COVERAGE_REGEX = r"/TOTAL.*? (100(?:\.0+)?%|[1-9]?\d(?:\.\d+)?%)$/"


def system_packages(packages: str, variant: str) -> str:
    """Install the image's extra system packages (``packages``: shell words, or an input that
    may be empty): apt on trixie, apk on alpine. Not cached: see docs/pipeline.md."""
    if variant == "alpine":
        install = "apk add --no-cache $uvci_packages"
    else:
        install = (
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            "--no-install-recommends $uvci_packages && rm -rf /var/lib/apt/lists/*"
        )
    return (
        f'uvci_packages="{packages}"\n'
        'if [ -n "$uvci_packages" ]; then\n'
        '  echo "uvci: installing system packages: $uvci_packages"\n'
        f"  {install}\n"
        "fi"
    )


def coverage_args(package: str) -> str:
    """pytest-cov's options: measure ``package`` (the installed one, wherever it is), print the
    total for the job's ``coverage:`` regex, write Cobertura XML for the coverage report. For
    an input (:class:`Raw`, maybe empty) ``$uvci_cov``, which :func:`coverage_switch` sets."""
    if isinstance(package, Raw):
        return "$uvci_cov"
    return f"--cov={package} --cov-report=term --cov-report=xml:{COVERAGE_XML}"


def coverage_switch(package: Raw) -> str:
    """``uvci_cov``: pytest-cov's options when the input ``package`` is not empty, else none."""
    return (
        f'uvci_cov_package="{package}"; uvci_cov=""\n'
        'if [ -n "$uvci_cov_package" ]; then\n'
        f'  uvci_cov="--cov=$uvci_cov_package --cov-report=term --cov-report=xml:{COVERAGE_XML}"\n'
        "fi"
    )
