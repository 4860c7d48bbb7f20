"""A user's keys for uvci-test in .gitlab-ci.yml, merged by GitLab (here gitlab-ci-local) into the
generated job, and the options for what old test jobs did: in containers, cold and warm.

- **System packages** (``--system-packages less``): the generated step runs the image's
  ``apt-get update`` and ``apt-get install``. Tests reach no network, and the Debian mirror is
  the network: the user's ``before_script`` (an extension point under test as well) puts a
  stand-in ``apt-get`` first on PATH, which records its calls and "installs" a package as a
  small command of its name. What is proven: the step runs, with these arguments, before the
  tests, every pipeline (not cached), and a warm cell still asks the package index for
  nothing. Real apt in uv's images is not exercised here.
- **A coverage report** (``--coverage``): pytest and pytest-cov, real wheels, served by the
  loopback index (from ``UVCI_TEST_WHEELS``, default .tools/coverage-wheels, which
  scripts/bootstrap-tools fills; skipped without them);
  the cell prints pytest-cov's TOTAL line (what the ``coverage:`` regex reads) and leaves the
  Cobertura XML for ``artifacts:reports:coverage_report``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.acceptance.pipeline_harness import generated_in_containers
from tests.support.images import Images
from tests.support.schema import gitlab_ci_errors
from uvci.doctor.engine import check
from uvci.gitlab.generate import scripts as sh

pytestmark = pytest.mark.slow

USER_CI = """\
# the project's pipeline: a default before_script for its own jobs (uvci-test must not run it)
default:
  before_script:
    - echo "THE DEFAULT BEFORE_SCRIPT RAN" && exit 3

# the user's keys for the generated job, merged into it by GitLab
uvci-test:
  before_script:
    - mkdir -p /tmp/stand-in && cp tests/stand-in-apt-get /tmp/stand-in/apt-get
    - chmod +x /tmp/stand-in/apt-get && export PATH="/tmp/stand-in:$PATH"
    - cd tests  # leaves the checkout: the generated script goes back
  variables:
    PROJECT_MARKER: from .gitlab-ci.yml
  artifacts:
    paths: [extra-report.txt]
  rules:
    - when: on_success
  tags: [docker]
"""
STAND_IN_APT = """\
#!/bin/sh
# a stand-in for apt-get (tests reach no network): records the call; `install` makes each
# package a command that prints its name
echo "STAND-IN apt-get $*"
[ "$1" = install ] || exit 0
for arg; do
  case $arg in -*|install) ;; *)
    printf '#!/bin/sh\\necho "stand-in %s"\\n' "$arg" > "/usr/local/bin/$arg"
    chmod +x "/usr/local/bin/$arg" ;;
  esac
done
"""
EXTENSION_TEST = """\
import os
import shutil
import subprocess
import unittest


class Extensions(unittest.TestCase):
    def test_the_users_variable_is_merged(self) -> None:
        self.assertEqual(os.environ.get("PROJECT_MARKER"), "from .gitlab-ci.yml")

    def test_the_system_package_was_installed_first(self) -> None:
        less = shutil.which("less")
        self.assertIsNotNone(less)
        out = subprocess.run([less], capture_output=True, text=True).stdout
        self.assertEqual(out.strip(), "stand-in less")

    def test_it_runs_in_the_checkout(self) -> None:
        self.assertEqual(os.getcwd(), os.environ["CI_PROJECT_DIR"])
        with open("extra-report.txt", "w") as report:
            report.write("kept as an artifact\\n")
"""


def _with_extensions(project: Path, _index_dir: Path) -> None:
    (project / ".gitlab-ci.yml").write_text(USER_CI)
    (project / "tests" / "stand-in-apt-get").write_text(STAND_IN_APT)
    (project / "tests" / "test_extensions.py").write_text(EXTENSION_TEST)


def test_the_users_keys_and_system_packages_survive_in_the_merged_job(
    tmp_path: Path, container_images: Images
) -> None:
    args = (
        "--system-packages",
        "less",
        "--test-command",
        "python -m unittest discover -s tests",
        "--layout",
        "per-cell",
    )  # one Python: else its one job is uvci-test-writer
    with generated_in_containers(tmp_path, container_images, "pure", ("3.12",), *args,
                                 prepare=_with_extensions) as harness:  # fmt: skip
        project = harness.project
        assert gitlab_ci_errors(project / ".gitlab-ci.yml") == []
        found = [f.rule for f in check(project).findings]  # doctor reads the merged job
        assert found in ([], ["UVC011"]), found  # UVC011: a one-Python matrix misses 3.11
        for label in ("cold", "warm"):
            run = harness.run()
            assert run.rc == 0, f"{label}:\n{run.output}"
            log = run.cell_log("3.12")
            assert "THE DEFAULT BEFORE_SCRIPT RAN" not in run.output
            assert "uvci: installing system packages: less" in log
            assert "STAND-IN apt-get update -qq" in log
            assert "STAND-IN apt-get install -y -qq --no-install-recommends less" in log
            assert re.search(r"Ran 4 tests", run.output), run.output
        assert run.requests == (), [r.path for r in run.requests]  # warm: nothing from the index
        kept = list((project / ".gitlab-ci-local" / "artifacts").rglob("extra-report.txt"))
        assert kept, "the user's artifacts:paths merged with the JUnit report"
        merged = YAML(typ="safe").load(project / ".gitlab-ci-local" / "expanded-gitlab-ci.yml")
        artifacts = merged["uvci-test"]["artifacts"]  # gitlab-ci-local keeps paths, not reports
        assert artifacts["reports"]["junit"] == ".uvci/junit.xml"
        assert artifacts["paths"] == ["extra-report.txt"]


# scripts/bootstrap-tools downloads them (pinned, from PyPI); UVCI_TEST_WHEELS names another
REPO = Path(__file__).resolve().parents[2]
WHEELS = Path(os.environ.get("UVCI_TEST_WHEELS") or REPO / ".tools" / "coverage-wheels")
PYTEST_WHEELS = (
    "pytest-8.4.2-",
    "pluggy-",
    "iniconfig-",
    "packaging-",
    "pytest_cov-",
    "coverage-7.16.2-cp311-",
    "pygments-",
    "colorama-",
    "exceptiongroup-",
    "tomli-",
    "typing_extensions-",
)  # fmt: skip; a universal lock names them all
PYTEST_TEST = (
    "import pure_app\n\n\ndef test_answer() -> None:\n    assert pure_app.answer() == 42\n"
)


def _with_pytest_cov(project: Path, index_dir: Path) -> None:
    for prefix in PYTEST_WHEELS:
        for wheel in WHEELS.glob(f"{prefix}*.whl"):
            shutil.copy2(wheel, index_dir / wheel.name)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace(
        "[build-system]", '[dependency-groups]\ndev = ["pytest", "pytest-cov"]\n\n[build-system]'
    ), encoding="utf-8")  # fmt: skip
    (project / "tests" / "test_pure.py").write_text(PYTEST_TEST)
    # gitlab-ci-local copies artifacts:paths out of the container, not reports: ask for it
    (project / ".gitlab-ci.yml").write_text(
        "uvci-test:\n  artifacts:\n    paths: [.uvci/coverage.xml]\n"
    )


def test_coverage_prints_the_total_and_leaves_the_cobertura_report(
    tmp_path: Path, container_images: Images
) -> None:
    missing = [p for p in PYTEST_WHEELS if not any(WHEELS.glob(f"{p}*.whl"))]
    if missing:
        pytest.skip(f"no {', '.join(missing)} wheels in {WHEELS} (UVCI_TEST_WHEELS)")
    args = ("--coverage", "--group", "dev", "--layout", "per-cell")
    with generated_in_containers(tmp_path, container_images, "pure", ("3.11",), *args,
                                 prepare=_with_pytest_cov) as harness:  # fmt: skip
        run = harness.run()
        assert run.rc == 0, run.output
        log = run.cell_log("3.11")
        total = re.compile(sh.COVERAGE_REGEX.strip("/"), re.MULTILINE)
        lines = [line.split("> ", 1)[-1] for line in log.splitlines()]
        assert any(total.search(line) for line in lines), log
        assert run.coverage("uvci-test: [3.11]") == "100"  # the regex, as gitlab-ci-local reads it
        local = harness.project / ".gitlab-ci-local"
        reports = list((local / "artifacts").rglob("coverage.xml"))
        assert reports and "<coverage" in reports[0].read_text()
        # measured where it is installed (docs/pipeline.md: map it with [tool.coverage.paths])
        assert '/site-packages/pure_app/__init__.py"' in reports[0].read_text()
        merged = YAML(typ="safe").load(local / "expanded-gitlab-ci.yml")["uvci-test"]
        assert merged["artifacts"]["reports"]["coverage_report"]["path"] == sh.COVERAGE_XML
        assert merged["coverage"] == sh.COVERAGE_REGEX
