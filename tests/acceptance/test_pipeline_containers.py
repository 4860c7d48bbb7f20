"""A pipeline run in containers, as on a GitLab docker runner: the smoke test of the setup.

gitlab-ci-local runs a two-cell ``parallel: matrix`` job with the docker executor on podman
(no Docker engine, no registry): each cell runs in ``ghcr.io/astral-sh/uv:<uv>-python3.X-
trixie-slim``, built locally by tests/support/images.py from the machine's CPython and the
pinned uv. The job installs the ``pure`` test project with ``uv venv`` + ``uv pip install``
from the loopback index on the host (``--network host``), runs its tests, and keeps its uv
cache and a marker file in a per-cell ``cache:``. The second run restores both: no file is
downloaded again, and each cell reads what its previous run wrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import Harness, gitlab_ci_local, real_uv_dir
from tests.support.images import Images
from tests.support.pyindex import LoopbackIndex

pytestmark = pytest.mark.slow

PYTHONS = ("3.10", "3.12")  # 3.10 also installs `backport`: the cells differ
PIPELINE = """
smoke:
  image: {image}
  parallel:
    matrix:
      - PYTHON: ["{pythons[0]}", "{pythons[1]}"]
  variables:
    UV_CACHE_DIR: $CI_PROJECT_DIR/.uv-cache
    UV_LINK_MODE: copy
  cache:
    key: smoke-py$PYTHON
    paths: [.uv-cache/, .cell/]
  script:
    - echo "RESTORED $(cat .cell/runs 2>/dev/null | tr '\\n' ' ')"
    - echo "VERSIONS $(python -V) $(python3 -V) $(python$PYTHON -V)"
    - python -c 'import sys; print("FULL", sys.version.split()[0], sys.prefix)'
    - if command -v git; then echo "GIT PRESENT"; exit 1; fi; echo "NO GIT"
    - uv --version
    - uv venv --python "$PYTHON" .venv
    - uv pip install --python .venv/bin/python .
    - .venv/bin/python -m unittest discover -s tests
    - .venv/bin/python -c 'import alpha, beta, gamma; print("DEPS", alpha.__version__, beta.__version__, gamma.__version__)'
    - mkdir -p .cell && echo "py$PYTHON-job$CI_JOB_ID" >> .cell/runs
"""  # noqa: E501
COMMON = ("alpha-1.1-py3-none-any.whl", "beta-2.0-py3-none-any.whl", "gamma-1.1-py3-none-any.whl")


def _cell(output: str, minor: str) -> str:
    """The lines of one cell in gitlab-ci-local's output (``smoke: [3.10] > ...``)."""
    return "\n".join(line for line in output.splitlines() if f"smoke: [{minor}]" in line)


def _line(log: str, marker: str) -> str:
    found = [line.split("> ", 1)[-1] for line in log.splitlines() if f"> {marker}" in line]
    assert found, f"no {marker!r} line in:\n{log}"
    return found[-1]


def test_matrix_in_uv_images_restores_its_per_cell_cache(
    container_images: Images,
    locked_project: Callable[..., Path],
    index: LoopbackIndex,
    pythons: dict[str, Path],
    tmp_path: Path,
) -> None:
    missing = [p for p in PYTHONS if p not in container_images.python]
    if missing:
        pytest.skip(f"needs CPython {' and '.join(missing)} installed")
    tool = gitlab_ci_local()
    if tool is None:
        pytest.skip("gitlab-ci-local not installed: run `PATH=$(bash scripts/bootstrap-tools)`")
    project = locked_project("pure")
    image = container_images.python["3.10"].replace("python3.10", "python$PYTHON")
    pipeline = PIPELINE.format(image=image, pythons=PYTHONS)
    (project / ".gitlab-ci.yml").write_text(pipeline, encoding="utf-8")
    uv_dir = real_uv_dir() or Path("/usr/local/bin")
    harness = Harness(project, index, pythons, tool, tmp_path / "host-cache", uv_dir,
                      images=container_images)  # fmt: skip
    harness.init_repo()
    harness.commit("smoke pipeline")

    cold = harness.run()
    assert cold.rc == 0, cold.output
    cells = [f"smoke: [{p}]" for p in PYTHONS]
    assert sorted(cold.passed()) == cells, cold.output
    # each cell downloads what its Python needs, once, from the loopback index on the host
    expected = Counter({**dict.fromkeys(COMMON, 2), "backport-1.0-py3-none-any.whl": 1})
    assert cold.file_requests() == expected, cold.requests
    assert all(r.status == 200 for r in cold.requests), cold.requests
    for minor in PYTHONS:
        log = _cell(cold.output, minor)
        version = container_images.versions[minor]
        assert _line(log, "FULL").split()[:2] == ["FULL", version]  # the host's pyenv build
        assert _line(log, "FULL").split()[2] == "/usr/local"
        assert _line(log, "VERSIONS") == f"VERSIONS {' '.join([f'Python {version}'] * 3)}"
        assert _line(log, "NO GIT") == "NO GIT" and "> GIT PRESENT" not in log
        uv_line = _line(log, "uv ")
        assert uv_line.startswith(f"uv {container_images.uv_version}") and "linux-musl" in uv_line
        assert _line(log, "DEPS") == "DEPS 1.1 2.0 1.1"
        assert _line(log, "RESTORED").strip() == "RESTORED"  # nothing to restore on the first run
        saved = harness.cache / f"smoke-py{minor}"
        assert len((saved / ".cell" / "runs").read_text().splitlines()) == 1
        assert any((saved / ".uv-cache").rglob("alpha*"))  # the uv cache was saved

    warm = harness.run()
    assert warm.rc == 0, warm.output
    assert sorted(warm.passed()) == cells, warm.output
    assert warm.file_requests() == Counter(), warm.requests  # every wheel from the restored cache
    for minor in PYTHONS:
        log = _cell(warm.output, minor)
        restored = _line(log, "RESTORED").split()
        assert len(restored) == 2 and restored[1].startswith(f"py{minor}-job"), log
        runs = (harness.cache / f"smoke-py{minor}" / ".cell" / "runs").read_text().splitlines()
        assert len(runs) == 2 and runs[0] == restored[1]
    print(f"\ncontainerised pipeline runs: {', '.join(f'{s:.1f}s' for s in harness.seconds)}")


SAVES = """
saves:
  image: {image}
  cache:
    key: saves
    paths: [kept/]
  script:
    - mkdir -p kept
    - if [ -f kept/c ]; then mv kept aside; elif [ -f kept/a ]; then rm kept/a; touch kept/c; else touch kept/a kept/b; fi
"""  # noqa: E501


def test_a_saved_cache_replaces_the_key_and_an_empty_path_saves_nothing(
    container_images: Images, locked_project: Callable[..., Path], index: LoopbackIndex,
    tmp_path: Path,
) -> None:  # fmt: skip
    """As GitLab's runner: a job's cache replaces the key's archive (gitlab-ci-local merges into
    the old directory; tests/support/podman-gcl replaces it), and paths with no file upload
    nothing ("No files to cache": the previous archive stays)."""
    tool = gitlab_ci_local()
    if tool is None or "3.12" not in container_images.python:
        pytest.skip("needs gitlab-ci-local and CPython 3.12")
    project = locked_project("pure")
    pipeline = SAVES.format(image=container_images.python["3.12"])
    (project / ".gitlab-ci.yml").write_text(pipeline, encoding="utf-8")
    harness = Harness(project, index, {}, tool, tmp_path / "host-cache", Path("/usr/local/bin"),
                      images=container_images)  # fmt: skip
    harness.init_repo()
    harness.commit("saves")
    stored = harness.cache / "saves" / "kept"
    seen = []
    for _ in range(3):
        assert harness.run().rc == 0
        seen.append(sorted(p.name for p in stored.iterdir()))
    assert seen == [["a", "b"], ["b", "c"], ["b", "c"]]  # a removed file is gone; nothing kept
