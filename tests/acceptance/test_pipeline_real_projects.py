"""Opt-in: the pipeline `uvci generate` writes for real public uv projects, at fixed commits, run
in containers against the real package index: cold, warm, after a dependency bump.

Skipped unless UVCI_NETWORK_TESTS=1 (CI has no network for tests; `.ci/run` leaves it unset).
It needs the network for three things the hermetic tests stand in for: the project's source
(``git clone`` of the repository below; or ``UVCI_GIT_MIRROR/<owner>+<name>/repo``, a local
clone), PyPI (the cells fetch what their wheelhouse lacks, ``uvx`` fetches uvci's
dependencies) and, for ``--system-packages``, the Debian mirror (real ``apt-get`` in the
image). Behind a TLS-intercepting proxy (the host's ``SSL_CERT_FILE``), the project gets that
CA bundle and one global ``SSL_CERT_FILE`` variable, as docs/pipeline.md tells users to do:
uv and uvci in the cells then both trust it. The jobs run in the local images of
tests/support/images.py (uv's image names) with ``--network host``. uvci is the wheel built
from this tree, committed into the project and run with ``--uvci-spec ./.uvci-dist/<wheel>``:
uvci is not on the index yet.

The projects (small, pure Python, their own ``uv.lock``, a ``tests`` dependency group beside
default groups full of dev tools, which ``generate`` points out):

- pallets/click at 2c8cd3ac958a7eb316d67f2d316c27086c4c0369 (2026-08-20): its tests need
  ``less`` (``--system-packages less``), which uv's slim images lack;
- pallets/itsdangerous at 672971d66a2ef9f85151e53283113f33d642dabd (2025-06-14).

The bump adds one test dependency (``uv add --group tests pytest-timeout==2.4.0``): the next
pipeline fetches just that, and uploads the changed wheelhouse; the warm one uploads nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.pipeline_harness import (
    CACHE_DIR,
    DOCKER_ARGS,
    NODE_TOOLS,
    ORIGIN,
    REPO,
    gitlab_ci_local,
    snapshot,
)
from tests.support.images import Images
from uvci import __version__
from uvci.util.uvproc import cmd_output, run_uv

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("UVCI_NETWORK_TESTS") != "1", reason="set UVCI_NETWORK_TESTS=1 to run"
    ),
]
PYTHONS = "3.12,3.13"
BUMP = "pytest-timeout==2.4.0"
IDENT = ("-c", "user.email=tests@uvci.invalid", "-c", "user.name=uvci tests")


@dataclass(frozen=True)
class RealProject:
    repo: str  # owner/name on GitHub
    commit: str
    generate_args: tuple[str, ...]


PROJECTS = [
    RealProject("pallets/click", "2c8cd3ac958a7eb316d67f2d316c27086c4c0369",
                ("--no-default-groups", "--group", "tests", "--system-packages", "less")),
    RealProject("pallets/itsdangerous", "672971d66a2ef9f85151e53283113f33d642dabd",
                ("--no-default-groups", "--group", "tests")),
]  # fmt: skip


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *IDENT, *args], cwd=cwd, capture_output=True, text=True,
                          check=True, timeout=300)  # fmt: skip
    return done.stdout


def _checkout(project: RealProject, dest: Path) -> Path:
    """The project's files at ``commit``, as the first commit of a fresh repository."""
    mirror = os.environ.get("UVCI_GIT_MIRROR")
    source = (Path(mirror) / project.repo.replace("/", "+") / "repo" if mirror
              else f"https://github.com/{project.repo}.git")  # fmt: skip
    clone = dest.parent / f"{dest.name}-clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(clone)],
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(clone), "archive", project.commit],
                             check=True, capture_output=True, timeout=300).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=300)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "remote", "add", "origin", ORIGIN)
    return dest


def _trust_the_hosts_ca(project: Path) -> None:
    """Behind a TLS-intercepting proxy (the host's SSL_CERT_FILE holds its CA), the jobs need
    that CA for uv and uvci alike: one global variable, as docs/pipeline.md says."""
    bundle = os.environ.get("SSL_CERT_FILE")
    if not bundle or not Path(bundle).is_file():
        return
    (project / ".ci-ca").mkdir()
    shutil.copy2(bundle, project / ".ci-ca" / "ca-bundle.crt")
    (project / ".gitlab-ci.yml").write_text(
        "variables:\n  SSL_CERT_FILE: $CI_PROJECT_DIR/.ci-ca/ca-bundle.crt\n"
    )


def _uvci_wheel(project: Path) -> str:
    out = project / ".uvci-dist"
    rc, _out, err = run_uv(["build", "--wheel", "--out-dir", str(out), str(REPO)], timeout=300)
    assert rc == 0, err
    (out / ".gitignore").unlink(missing_ok=True)  # uv's `*`: the wheel must be committed
    return f"./.uvci-dist/uvci-{__version__}-py3-none-any.whl"


def _generate(project: Path, args: tuple[str, ...], spec: str) -> str:
    argv = [sys.executable, "-m", "uvci", "generate", str(project), "--python", PYTHONS,
            *args, "--uvci-spec", spec]  # fmt: skip
    rc, _out, err = cmd_output(argv, timeout=300)
    assert rc == 0, err
    return err


def _run(project: Path, images: Images) -> tuple[int, str]:
    tool = gitlab_ci_local()
    assert tool is not None, "gitlab-ci-local: run scripts/bootstrap-tools"
    path = os.pathsep.join([str(NODE_TOOLS / "node" / "bin"), os.environ["PATH"]])  # node 22
    env = images.env({"PATH": path, "HOME": os.environ.get("HOME", "/root"),
                      "NO_COLOR": "1", "FORCE_COLOR": "0"})  # fmt: skip
    rc, out, err = cmd_output([str(tool), *DOCKER_ARGS, "--color=false"], cwd=project, env=env,
                              timeout=3600)  # fmt: skip
    return rc, out + err


@pytest.mark.parametrize("real", PROJECTS, ids=lambda p: p.repo.split("/")[1])
def test_a_real_projects_pipeline_cold_warm_and_after_a_bump(
    tmp_path: Path, container_images: Images, real: RealProject
) -> None:
    missing = [p for p in PYTHONS.split(",") if p not in container_images.python]
    if missing:
        pytest.skip(f"no image for CPython {missing}")
    project = _checkout(real, tmp_path / "project")
    _trust_the_hosts_ca(project)
    spec = _uvci_wheel(project)
    notes = _generate(project, real.generate_args, spec)
    assert "per cell (--group=tests --no-default-groups)" in notes
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", f"{real.repo}@{real.commit[:12]} with its pipeline")
    cache = project / CACHE_DIR

    rc, cold = _run(project, container_images)
    assert rc == 0, cold
    filled = snapshot(cache)
    assert any(name.endswith(".whl") for name in filled), "the cold cells saved no wheelhouse"

    rc, warm = _run(project, container_images)
    assert rc == 0, warm
    assert snapshot(cache) == filled, "a warm pipeline changed (re-uploaded) the wheelhouse"

    rc, out, err = run_uv(["add", "--group", "tests", BUMP], cwd=project, timeout=300)
    assert rc == 0, out + err
    _generate(project, real.generate_args, spec)
    _git(project, "commit", "-q", "-am", f"bump: {BUMP}")
    rc, bumped = _run(project, container_images)
    assert rc == 0, bumped
    after = snapshot(cache)
    new = [name for name in after if name not in filled]
    assert any("pytest_timeout-2.4.0" in name for name in new), new
