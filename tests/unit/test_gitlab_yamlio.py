"""Round-trip YAML: what we load and write back is what the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml.comments import CommentedMap

from uvci.errors import FatalError
from uvci.gitlab.yaml import roundtrip
from uvci.util.atomicfile import write_atomic

ROUND_TRIP = [
    # comments, anchors, merge keys, !reference, quoting, key order, 4-space sequences
    """\
# top comment
variables:
  UV_CACHE_DIR: "$CI_PROJECT_DIR/.uv-cache"  # trailing comment

.base: &base
  image: 'python:3.12'
  script:
    - uv sync --locked
    - echo done

job:
  <<: *base
  before_script:
    - !reference [.base, script]
  script: >
    folded
    text
""",
    # GitLab's other common style: sequences not indented under their key, spec header
    """\
spec:
  inputs:
    python:
      default: "3.12"
---
test:
  script:
  - uv run --locked pytest
  cache:
    key:
      files: [uv.lock]
    paths: [.uv-cache]
""",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip_is_byte_identical(tmp_path: Path, text: str) -> None:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(text)
    doc = roundtrip.load_file(path)
    assert roundtrip.dumps(doc) == text


def test_spec_header_is_separate_from_config(tmp_path: Path) -> None:
    doc = roundtrip.loads(ROUND_TRIP[1], tmp_path / "x.yml")
    assert "spec" in doc.header
    assert list(doc.config) == ["test"]


def test_line_of_keys_items_and_merged_keys() -> None:
    doc = roundtrip.loads(ROUND_TRIP[0], Path("ci.yml"))
    config = doc.config
    assert roundtrip.line_of(config, "job") == 11
    assert roundtrip.line_of(config[".base"]["script"], 1) == 9
    assert roundtrip.line_of(config["job"], "image") == 6  # from the <<: *base merge
    assert roundtrip.is_reference(config["job"]["before_script"][0])


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text("job:\n  script: [uv sync\n  cache: x\n")
    with pytest.raises(FatalError) as info:
        roundtrip.load_file(path)
    assert f"{path}:3: invalid YAML" in info.value.message


def test_missing_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="cannot read"):
        roundtrip.load_file(tmp_path / "nope.yml")


def test_add_local_include_keeps_the_rest_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text("# mine\ninclude:\n  - local: a.yml\n\ntest:\n  script: [uv sync]\n")
    doc = roundtrip.load_file(path)
    assert roundtrip.add_local_include(doc, "ci/uvci.yml")
    assert not roundtrip.add_local_include(doc, "/ci/uvci.yml")
    roundtrip.write_file(doc)
    assert path.read_text() == (
        "# mine\ninclude:\n  - local: a.yml\n  - local: ci/uvci.yml\n\ntest:\n  script: [uv sync]\n"
    )


def test_add_local_include_creates_the_key_first(tmp_path: Path) -> None:
    doc = roundtrip.loads("test:\n  script: [uv sync]\n", tmp_path / "x.yml")
    roundtrip.add_local_include(doc, "ci/uvci.yml")
    assert roundtrip.dumps(doc).startswith("include:\n  - local: ci/uvci.yml\ntest:")


def test_write_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_text("old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yml"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "variables:\n  A: a  # c\n\n# next\ntest: {}\n",
            "variables:\n  A: a  # c\n  B: b\n\n# next\ntest: {}\n",
        ),
        ("variables:\n  A: a\n\ntest: {}\n", "variables:\n  A: a\n  B: b\n\ntest: {}\n"),
        ("variables:\n  A: a\ntest: {}\n", "variables:\n  A: a\n  B: b\ntest: {}\n"),
    ],
)
def test_append_key_keeps_the_gap_before_the_next_block(before: str, after: str) -> None:
    doc = roundtrip.loads(before, Path("x.yml"))
    roundtrip.append_key(doc.config["variables"], "B", "b")
    assert roundtrip.dumps(doc) == after


def test_insert_block_leaves_a_blank_line_before_the_next_key() -> None:
    doc = roundtrip.loads("# top\ninclude: a.yml\ntest: {}\n", Path("x.yml"))
    block = CommentedMap()
    block["A"] = "a"
    roundtrip.insert_block(doc.config, 1, "variables", block)
    assert roundtrip.dumps(doc) == "# top\ninclude: a.yml\nvariables:\n  A: a\n\ntest: {}\n"


def test_add_local_include_keeps_an_end_of_line_comment_on_its_line(tmp_path: Path) -> None:
    doc = roundtrip.loads(
        "include:\n  - local: a.yml  # ours\n  - b.yml\n\n# jobs\ntest: {}\n", tmp_path / "x.yml"
    )
    roundtrip.add_local_include(doc, "ci/uvci.yml")
    expected = "include:\n  - local: a.yml  # ours\n  - b.yml\n  - local: ci/uvci.yml\n"
    assert roundtrip.dumps(doc) == expected + "\n# jobs\ntest: {}\n"
    doc = roundtrip.loads("include:\n  - local: a.yml  # ours\n\ntest: {}\n", tmp_path / "x.yml")
    roundtrip.add_local_include(doc, "ci/uvci.yml")
    assert roundtrip.dumps(doc) == (
        "include:\n  - local: a.yml  # ours\n  - local: ci/uvci.yml\n\ntest: {}\n"
    )


EXAMPLES = sorted((Path(__file__).parents[1] / "data" / "pipelines").rglob("*.yml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_pipeline_round_trips_unchanged(path: Path) -> None:
    doc = roundtrip.load_file(path)
    assert roundtrip.dumps(doc) == doc.text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_loader_sees_the_same_data_and_lines(path: Path) -> None:
    slow = roundtrip.load_file(path)
    fast = roundtrip.load_file(path, round_trip=False)
    assert len(fast.documents) == len(slow.documents)
    for a, b in zip(fast.documents, slow.documents, strict=True):
        assert _lines(a) == _lines(b)


def _lines(node: object, path: str = "") -> list[tuple[str, object]]:
    """Every leaf with its path, and the line of every key/item (``line_of``)."""
    out: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((f"{path}/{key}@", roundtrip.line_of(node, key)))
            out += _lines(value, f"{path}/{key}")
    elif isinstance(node, list):
        out.append((f"{path}!ref", roundtrip.is_reference(node)))
        for index, value in enumerate(node):
            out.append((f"{path}[{index}]@", roundtrip.line_of(node, index)))
            out += _lines(value, f"{path}[{index}]")
    else:
        out.append((path, node if node is None or isinstance(node, (bool, int)) else str(node)))
    return out


@pytest.mark.parametrize("round_trip", [True, False])
def test_a_repeated_key_takes_its_last_value_in_both_loaders(round_trip: bool) -> None:
    # GitLab accepts duplicate keys and the last one wins
    text = "test:\n  script: [a]\n  image: x\n  script: [b]\n"
    doc = roundtrip.loads(text, Path("ci.yml"), round_trip=round_trip)
    job = doc.config["test"]
    assert list(job) == ["script", "image"]
    assert list(job["script"]) == ["b"]
    assert roundtrip.line_of(job, "script") == 4


def test_fast_loader_reads_complex_keys_as_the_round_trip_one_does() -> None:
    text = "? [a, b]\n: {script: [x]}\n? {k: v}\n: 1\njob:\n  script: [uv sync]\n"
    slow = roundtrip.loads(text, Path("ci.yml"))
    fast = roundtrip.loads(text, Path("ci.yml"), round_trip=False)
    assert [type(k).__name__ for k in fast.config] == [type(k).__name__ for k in slow.config]
    assert list(fast.config) == list(slow.config)
    assert _lines(fast.config) == _lines(slow.config)


def test_a_recursive_alias_reads_as_null_in_both_loaders() -> None:
    text = "a: &x [1, *x]\nb: &y {k: *y}\njob:\n  script: [uv sync]\n"
    slow = roundtrip.loads(text, Path("ci.yml"))
    fast = roundtrip.loads(text, Path("ci.yml"), round_trip=False)
    assert slow.config["a"] == [1, None] and slow.config["b"] == {"k": None}
    assert _lines(fast.config) == _lines(slow.config)


def test_fast_loader_resolves_plain_scalars_as_the_round_trip_one() -> None:
    # libyaml composes with YAML 1.1 rules (yes/on are booleans, 0o17 is not octal...):
    # the fast loader resolves plain scalars again as ruamel does, so both read the same
    text = (
        "a: yes\nb: on\nc: 0o17\nd: 017\ne: 1_000\nf: 2024-01-02\ng: '3'\nh: ~\ni: 3.10\n"
        "k: .inf\nl: 0x1f\nm: True\nn: -1\n"
    )
    fast = roundtrip.loads(text, Path("ci.yml"), round_trip=False).config
    slow = roundtrip.loads(text, Path("ci.yml")).config
    assert {k: _kind(v) for k, v in fast.items()} == {k: _kind(v) for k, v in slow.items()}


def _kind(value: object) -> tuple[str, str]:
    base = next(t for t in (bool, int, float, str, type(None), object) if isinstance(value, t))
    return base.__name__, str(value)
