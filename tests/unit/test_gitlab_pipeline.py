"""The pipeline model resolves what GitLab resolves, and names file:line for everything."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from uvci.errors import FatalError
from uvci.gitlab.read.pipeline import Job, Pipeline, matrix_cells, read_pipeline


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def job(pipeline: Pipeline, name: str) -> Job:
    return next(j for j in pipeline.jobs if j.name == name)


def test_extends_chain_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                .a:
                  variables: {A: "1", B: "1"}
                  script: [echo a]
                  cache: {key: k, paths: [x]}
                .b:
                  extends: .a
                  variables: {B: "2"}
                  script: [echo b]
                test:
                  extends: [.b]
                  variables: {C: "3"}
                """
            },
        )
    )
    (test,) = p.jobs
    assert dict(test.variables) == {"A": "1", "B": "2", "C": "3"}
    assert [s.text for s in test.scripts] == ["echo b"]
    assert test.scripts[0].loc.line == 8  # the line in .b that defines it
    assert test.caches[0].key == "k"


def test_reference_anchor_and_merge_key(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                .setup:
                  script:
                    - uv sync --locked
                    - !reference [.more, script]
                .more:
                  script: [echo more]
                .vars: &vars
                  variables: {UV_CACHE_DIR: .uv-cache}
                test:
                  <<: *vars
                  script:
                    - !reference [.setup, script]
                    - uv run --locked pytest
                """
            },
        )
    )
    test = job(p, "test")
    assert [s.text for s in test.scripts] == [
        "uv sync --locked",
        "echo more",
        "uv run --locked pytest",
    ]
    assert [s.loc.line for s in test.scripts] == [3, 6, 13]
    assert test.variables["UV_CACHE_DIR"] == ".uv-cache"


def test_default_global_and_inherit(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                variables: {G: g}
                default:
                  image: python:3.12
                  before_script: [echo default]
                  cache: {key: d, paths: [.uv-cache]}
                a:
                  script: [uv sync]
                b:
                  inherit: {default: [image], variables: false}
                  script: [uv sync]
                c:
                  cache: []
                  image: python:3.13
                  script: [uv sync]
                """
            },
        )
    )
    a, b, c = (job(p, n) for n in "abc")
    assert (a.image, a.variables["G"], len(a.caches)) == ("python:3.12", "g", 1)
    assert [s.text for s in a.scripts] == ["echo default", "uv sync"]
    assert (b.image, "G" in b.variables, b.caches) == ("python:3.12", False, ())
    assert (c.image, c.caches) == ("python:3.13", ())


def test_matrix_cells_and_names(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                test:
                  image: python:$PY
                  parallel:
                    matrix:
                      - PY: ["3.11", "3.12"]
                        OS: linux
                      - PY: "3.13"
                  script: [uv sync]
                """
            },
        )
    )
    names = [j.name for j in p.jobs]
    assert names == ["test: [3.11, linux]", "test: [3.12, linux]", "test: [3.13]"]
    assert [j.image for j in p.jobs] == ["python:3.11", "python:3.12", "python:3.13"]
    assert {j.base for j in p.jobs} == {"test"}
    assert matrix_cells(None) == [{}]


def test_local_includes_merge_and_remote_ones_are_listed(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                include:
                  - local: /ci/base.yml
                  - ci/more/*.yml
                  - remote: https://example.com/x.yml
                  - project: group/proj
                    file: /t.yml
                test:
                  extends: .base
                  variables: {OWN: "1"}
                """,
                "ci/base.yml": ".base:\n  script: [uv sync]\n  variables: {OWN: '0', BASE: '1'}\n",
                "ci/more/extra.yml": "extra:\n  script: [echo]\n",
            },
        )
    )
    assert {j.name for j in p.jobs} == {"test", "extra"}
    assert dict(job(p, "test").variables) == {"OWN": "1", "BASE": "1"}
    assert job(p, "test").scripts[0].loc.path == tmp_path / "ci/base.yml"
    assert [text for text, _ in p.not_checked] == [
        "remote: https://example.com/x.yml",
        "project: group/proj",
    ]
    assert len(p.documents) == 3


def test_spec_header_is_skipped(tmp_path: Path) -> None:
    root = write(tmp_path, {"pipe.yml": "spec:\n  inputs: {}\n---\ntest:\n  script: [uv sync]\n"})
    p = read_pipeline(root / "pipe.yml")
    assert [j.name for j in p.jobs] == ["test"]
    assert p.jobs[0].loc.line == 4


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({".gitlab-ci.yml": "a:\n  script: [x\n"}, ".gitlab-ci.yml:3: invalid YAML"),
        (
            {".gitlab-ci.yml": "include:\n  - local: nope.yml\n"},
            ".gitlab-ci.yml:2: include 'nope.yml' not found",
        ),
        (
            {".gitlab-ci.yml": "a:\n  extends: b\n  script: [x]\nb:\n  extends: a\n"},
            "cyclic extends: a -> b -> a",
        ),
        ({".gitlab-ci.yml": "a:\n  extends: .missing\n"}, "extends '.missing', which is not"),
        (
            {".gitlab-ci.yml": "a:\n  script: [!reference [.x, script]]\n"},
            ".gitlab-ci.yml:2: !reference [.x, script] points at nothing",
        ),
        ({".gitlab-ci.yml": "- just\n- a list\n"}, "must be a mapping"),
        (
            {".gitlab-ci.yml": "include:\n  - local: $CI_DIR/a.yml\n"},
            ".gitlab-ci.yml:2: include '$CI_DIR/a.yml' uses a variable",
        ),
    ],
)
def test_unreadable_pipelines_are_one_fatal_error(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    write(tmp_path, files)
    with pytest.raises(FatalError) as info:
        read_pipeline(tmp_path)
    assert message in info.value.message
    assert "\n" not in info.value.message
    assert "; " in info.value.message  # the fix follows what is wrong


def test_missing_pipeline_file(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"no \.gitlab-ci\.yml here"):
        read_pipeline(tmp_path)


def test_what_unread_includes_may_define_is_not_an_error(tmp_path: Path) -> None:
    p = read_pipeline(
        write(
            tmp_path,
            {
                ".gitlab-ci.yml": """
                include:
                  - project: group/ci-templates
                    file: /python.yml
                test:
                  extends: [.python-base, .local]
                  script:
                    - !reference [.python-base, setup]
                    - uv sync --locked
                .local:
                  variables: {A: "1"}
                """
            },
        )
    )
    (test,) = p.jobs
    assert [s.text for s in test.scripts] == ["uv sync --locked"]
    assert test.variables["A"] == "1"
    assert [text for text, _ in p.not_checked] == ["project: group/ci-templates"]
