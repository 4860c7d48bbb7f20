"""The catalog component (templates/uvci/template.yml) is generated, checked in, valid, and in
step with `uvci generate`: given a project's values as inputs, its jobs are the generator's."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support.schema import gitlab_ci_errors
from tests.support.uvcispec import HASHED_SPEC
from uvci.gitlab.generate import catalog
from uvci.gitlab.generate.header import is_untouched
from uvci.util.uvproc import uv_version

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / catalog.TEMPLATE
SPEC = HASHED_SPEC


def test_the_checked_in_template_is_what_the_generator_writes() -> None:
    assert TEMPLATE.read_text(encoding="utf-8") == catalog.template_text(), (
        "regenerate it: python -m uvci.gitlab.generate.catalog"
    )
    assert is_untouched(TEMPLATE.read_text(encoding="utf-8"))


def test_the_template_is_valid_gitlab_ci_with_typed_inputs() -> None:
    assert gitlab_ci_errors(TEMPLATE) == []
    header = load(TEMPLATE.read_text(encoding="utf-8").split("\n---\n")[0])
    declared = header["spec"]["inputs"]
    assert set(declared) == {"pythons", "test-command", "uv-sync-flags", "project-dir", "stage",
                             "uv-version", "uvci-spec", "retain", "system-packages",
                             "coverage-package"}  # fmt: skip
    assert "default" not in declared["uvci-spec"]  # required: no name an index resolves
    assert declared["pythons"]["type"] == "array"
    assert all(isinstance(p, str) for p in declared["pythons"]["default"])


def load(text: str) -> Any:
    return YAML(typ="safe").load(io.StringIO(text))


def interpolated(values: dict[str, Any]) -> dict[str, Any]:
    """The template's jobs with ``values`` for its inputs (defaults for the others), as
    GitLab interpolates them: an array input alone as a value keeps its type."""
    header_text, jobs_text = TEMPLATE.read_text(encoding="utf-8").split("\n---\n")
    declared = load(header_text)["spec"]["inputs"]
    merged = {
        name: values[name] if name in values else d["default"] for name, d in declared.items()
    }
    for name, value in merged.items():
        if isinstance(value, str):
            jobs_text = jobs_text.replace(f"$[[ inputs.{name} ]]", value)
    jobs: dict[str, Any] = load(jobs_text)
    jobs["uvci-test"]["parallel"]["matrix"][0]["PYTHON"] = merged["pythons"]
    assert "$[[" not in str(jobs)
    return jobs


def test_with_a_projects_values_the_template_is_the_generated_pipeline() -> None:
    """uvci's own project (uv_build, a dev group with pytest), per-cell layout: the same jobs,
    but for the cells' prefetch, which plans its own cell only (`--python "$PYTHON"`)."""
    flags = "--group=dev --no-default-groups"
    argv = [sys.executable, "-m", "uvci", "generate", str(REPO), "--python", "3.11,3.12",
            *flags.split(), "--layout", "per-cell", "--uvci-spec", SPEC, "--stdout"]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    generated_text = result.stdout.replace("--python 3.11,3.12 ", '--python "$PYTHON" ')
    expected = load(generated_text)
    got = interpolated({"pythons": ["3.11", "3.12"], "uv-sync-flags": flags,
                        "uv-version": uv_version(), "uvci-spec": SPEC})  # fmt: skip
    assert without_empty_inputs(got["uvci-test"]) == expected["uvci-test"]
    assert got == expected


def without_empty_inputs(job: dict[str, Any]) -> dict[str, Any]:
    """The template's steps for empty system-packages and coverage-package inputs, removed
    (each exactly once; the generator writes them only when asked): in place, ``job``."""
    script = job["script"]
    packages = [line for line in script if line.startswith('uvci_packages=""')]
    switch = [line for line in script if line.startswith('uvci_cov_package=""')]
    assert len(packages) == len(switch) == 1
    script.remove(packages[0])
    script.remove(switch[0])
    script[-1] = script[-1].replace(" $uvci_cov ", " ")
    assert job.pop("coverage").startswith("/TOTAL")
    assert job["artifacts"]["reports"].pop("coverage_report")["path"] == ".uvci/coverage.xml"
    return job
