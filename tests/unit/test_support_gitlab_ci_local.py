"""The support works under gitlab-ci-local: jobs reach the loopback index and are counted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.projects import git_init
from tests.support.pyindex import LoopbackIndex
from uvci.util.uvproc import cmd_output

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools" / "node_modules"  # scripts/bootstrap-tools installs Node 22 + the tool here


def gitlab_ci_local(env: dict[str, str]) -> str | None:
    """The tool, with ``env["PATH"]`` starting at the bootstrapped Node 22 when there is one."""
    if (TOOLS / "node" / "bin" / "node").exists():
        env["PATH"] = f"{TOOLS / 'node' / 'bin'}:{TOOLS / '.bin'}:{env.get('PATH', '')}"
    return shutil.which("gitlab-ci-local", path=env.get("PATH"))


@pytest.mark.slow
def test_jobs_sync_locked_from_the_loopback_index(
    locked_project: Callable[..., Path],
    pythons: dict[str, Path],
    index: LoopbackIndex,
    cold_uv_env: dict[str, str],
) -> None:
    tool = gitlab_ci_local(cold_uv_env)
    if tool is None:
        pytest.skip("gitlab-ci-local not installed (PATH=$(bash scripts/bootstrap-tools))")
    project = locked_project("forked")
    jobs = [
        f"test-{minor}:\n  script:\n    - uv sync --locked --python {exe}\n"
        "    - .venv/bin/python -m unittest discover -s tests\n"
        for minor, exe in pythons.items()
    ]
    (project / ".gitlab-ci.yml").write_text("\n".join(jobs), encoding="utf-8")
    git_init(project)
    index.reset()
    rc, out, err = cmd_output(
        [tool, "--force-shell-executor", "--shell-isolation", "--concurrency", "1"],
        cwd=project,
        env=cold_uv_env,  # jobs inherit it: one cold uv cache shared by every job
        timeout=600,
    )
    assert rc == 0, out + err
    assert out.count("PASS") == len(pythons)
    wanted = {"gamma-1.1-py3-none-any.whl"}
    wanted |= {"forky-1.5-py3-none-any.whl"} if {"3.10", "3.11"} & set(pythons) else set()
    wanted |= {"tomlish-1.0-py3-none-any.whl"} if "3.10" in pythons else set()
    if {"3.12", "3.13"} & set(pythons):
        wanted |= {"forky-2.1-py3-none-any.whl", "beta-2.0-py3-none-any.whl"}
    assert index.file_requests() == dict.fromkeys(wanted, 1)
