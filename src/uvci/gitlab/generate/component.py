"""The pipeline as a GitLab CI/CD catalog component: ``spec: inputs:`` then the jobs.

The matrix, the images and the wheelhouse layout come from the plan, as in the plain pipeline;
the inputs cover what a consumer tunes without regenerating: the stages, the test command and
the uvci that the jobs run. Include it with
``include: - component: $CI_SERVER_FQDN/<group>/<project>/uvci@<version>``.
"""

from __future__ import annotations

from dataclasses import replace

from ruamel.yaml.comments import CommentedMap

from uvci import __version__
from uvci.gitlab.generate import header
from uvci.gitlab.generate.pipeline import GenerateOptions, build_pipeline
from uvci.gitlab.generate.scripts import Raw
from uvci.gitlab.yaml.build import mapping
from uvci.model.plan import Plan
from uvci.model.testcommand import is_pytest


def _input(default: str, description: str) -> CommentedMap:
    return mapping(("default", default), ("description", description))


def inputs(opts: GenerateOptions) -> CommentedMap:
    return mapping(
        ("stage-build", _input(opts.build_stage, "stage of uvci-build (--build-once)")),
        ("stage-test", _input(opts.test_stage, "stage of the uvci-test matrix")),
        ("test-command", _input(opts.test_command, "what each cell runs")),
        (
            "uvci-spec",
            _input(
                opts.uvci_spec,
                "the uvci wheel the jobs run, with its hash: "
                "uvci @ URL#sha256=HEX (docs/release.md)",
            ),
        ),
        ("system-packages", _input(opts.system_packages, "system packages each cell "
                                   "installs first, space-separated (apt-get or apk)")),
        *_coverage_input(opts),
    )  # fmt: skip


def _coverage_input(opts: GenerateOptions) -> list[tuple[str, CommentedMap]]:
    if opts.coverage is None:
        return []
    why = "the package pytest-cov measures for the coverage report (empty: none)"
    return [("coverage-package", _input(opts.coverage, why))]


def component_text(plan: Plan, opts: GenerateOptions, command: str) -> str:
    templated = replace(
        opts,
        build_stage="$[[ inputs.stage-build ]]",
        test_stage="$[[ inputs.stage-test ]]",
        test_command="$[[ inputs.test-command ]]",
        uvci_spec="$[[ inputs.uvci-spec ]]",
        pytest_junit=is_pytest(opts.test_command),
        emit_stages=False,
        tool_env=False,  # the uvci spec is an input: nothing to lock; the cells check its hash
        tool_url=True,
        system_packages=Raw("$[[ inputs.system-packages ]]"),
        coverage=None if opts.coverage is None else Raw("$[[ inputs.coverage-package ]]"),
    )
    pipeline = build_pipeline(plan, templated)
    documents = header.component_documents(pipeline, inputs(opts))
    return header.render(documents, __version__, command)
