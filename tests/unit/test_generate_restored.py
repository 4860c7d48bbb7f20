"""The generated jobs' first step: what a restored cache planted under .uvci is removed, never
followed, before the job writes there (run for real with sh, and bash and busybox when present)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from uvci.gitlab.generate import scripts as sh
from uvci.gitlab.generate.pipeline import GenerateOptions, LocalBuilds, Shape, build_jobs
from uvci.gitlab.generate.restored import clean_uvci_dir

SHELLS = [
    [shell] if shell != "busybox" else ["busybox", "sh"]
    for shell in ("sh", "bash", "busybox")
    if shutil.which(shell)
]
VICTIM = "the user's file, outside the project\n"
# the cell's own writes after the step, as export_requirements and the tests make them
WRITES = (  # the job's own directories first (beside the project), then what it writes
    f"{sh.work_dirs()}\n"
    f"echo export > {sh.REQUIREMENTS} && : > {sh.BUILD_REQUIREMENTS} && echo junit > {sh.JUNIT}"
    f" && mkdir -p {sh.VENV}/bin && echo venv > {sh.VENV}/bin/python"
)


def run(shell: list[str], script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*shell, "-ec", script], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
    )


def outside(tmp_path: Path) -> Path:
    """A directory outside the project, with files a planted link points at."""
    other = tmp_path / "elsewhere"
    (other / "dir").mkdir(parents=True)
    for name in ("victim.txt", "dir/keep.txt", "real.whl"):
        (other / name).write_text(VICTIM)
    return other


def untouched(other: Path) -> bool:
    files = sorted(p.relative_to(other).as_posix() for p in other.rglob("*"))
    same = all((other / n).read_text() == VICTIM for n in ("victim.txt", "dir/keep.txt"))
    return files == ["dir", "dir/keep.txt", "real.whl", "victim.txt"] and same


def plant(project: Path, other: Path) -> Path:
    uvci = project / ".uvci"
    wheels = uvci / "wheels"
    wheels.mkdir(parents=True)
    (wheels / "alpha-1.0-py3-none-any.whl").write_text("a wheel\n")
    (wheels / "manifest.json").write_text("{}\n")
    (wheels / ".uvci-wheelhouse").write_text("")
    (wheels / "beta-1.0-py3-none-any.whl").symlink_to(other / "real.whl")
    (wheels / "loop-1.0-py3-none-any.whl").symlink_to("loop-1.0-py3-none-any.whl")
    (wheels / ".hidden.whl").symlink_to(other / "victim.txt")
    os.mkfifo(wheels / "fifo-1.0.tar.gz")
    (wheels / "sub").mkdir()
    (wheels / "sub" / "gamma-1.0-py3-none-any.whl").write_text("nested\n")
    for name in ("requirements.txt", "build-requirements.txt", "junit.xml"):
        (uvci / name).symlink_to(other / "victim.txt")
    (uvci / "venv").symlink_to(other / "dir", target_is_directory=True)
    (uvci / "uv-cache" / "wheels-v5").mkdir(parents=True)  # a planted uv cache: uv trusts it
    (uvci / "wheels.unchanged").write_text("")
    (uvci / "wheels.filled-for").symlink_to(other / "victim.txt")
    return wheels


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_planted_links_and_files_under_uvci_are_removed_and_never_written_through(
    tmp_path: Path, shell: list[str]
) -> None:
    project = tmp_path / "project"
    other = outside(tmp_path)
    wheels = plant(project, other)
    step = clean_uvci_dir([sh.WHEELHOUSE, sh.DIST], [sh.FILLED_FOR])
    result = run(shell, f"{step}\n{WRITES}", project)
    assert result.returncode == 0, result.stderr
    assert untouched(other)  # nothing outside the project was truncated or removed
    left = sorted(p.name for p in wheels.iterdir())
    assert left == [".uvci-wheelhouse", "alpha-1.0-py3-none-any.whl", "manifest.json"]
    assert sorted(p.name for p in (project / ".uvci").iterdir()) == [
        "build-requirements.txt", "junit.xml", "requirements.txt", "wheels", "wheels-delta",
        "wheels.cleaned",  # the wheelhouse lost planted entries: the repaired one is saved
    ]  # fmt: skip
    venv = tmp_path / "project.uvci" / "venv"  # $uvci_work: beside the project, made anew
    assert venv.is_dir() and not venv.is_symlink() and (project / sh.REQUIREMENTS).read_text()
    assert "removed 12 entries" in result.stdout, result.stdout
    assert "\n" not in result.stdout.strip()  # one line, no name from the cache in it


@pytest.mark.parametrize("linked", [".uvci", ".uvci/wheels"])
def test_a_linked_uvci_or_wheelhouse_is_removed_not_followed(tmp_path: Path, linked: str) -> None:
    project = tmp_path / "project"
    other = outside(tmp_path)
    (project / linked).parent.mkdir(parents=True, exist_ok=True)
    (project / linked).symlink_to(other, target_is_directory=True)
    result = run(["sh"], f"{clean_uvci_dir([sh.WHEELHOUSE])}\n{WRITES}", project)
    assert result.returncode == 0, result.stderr
    assert untouched(other)
    assert not (project / linked).exists() or not (project / linked).is_symlink()
    assert (project / ".uvci").is_dir() and not (project / ".uvci").is_symlink()


def test_a_file_named_uvci_is_removed(tmp_path: Path) -> None:
    (tmp_path / ".uvci").write_text("planted\n")
    result = run(["sh"], f"{clean_uvci_dir([sh.WHEELHOUSE])}\n{WRITES}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / sh.REQUIREMENTS).read_text() == "export\n"


def test_a_clean_or_absent_uvci_is_left_as_it_is(tmp_path: Path) -> None:
    step = clean_uvci_dir([sh.WHEELHOUSE])
    assert run(["sh"], step, tmp_path).stdout == ""  # cold: nothing there
    (tmp_path / ".uvci" / "wheels").mkdir(parents=True)
    (tmp_path / ".uvci" / "wheels" / "a-1-py3-none-any.whl").write_text("w")
    result = run(["sh"], step, tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert (tmp_path / ".uvci" / "wheels" / "a-1-py3-none-any.whl").read_text() == "w"


def _options(**kw: object) -> GenerateOptions:
    return GenerateOptions(uv_version="0.13.9", uvci_spec=".", plan_args=(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", ["per-cell", "shared"])
@pytest.mark.parametrize("once", [False, True])
def test_every_job_cleans_uvci_first(layout: str, once: bool) -> None:
    shape = Shape(("3.11", "3.12"), LocalBuilds((".",), ("p: pure",)), layout)  # type: ignore[arg-type]
    jobs = build_jobs(shape, _options(build_once=once))
    names = [n for n in jobs if not n.startswith(".") and n != "stages"]
    assert names and ("uvci-build" in names) is once
    for name in names:
        script = [str(line) for line in jobs[name]["script"]]
        first = script[1] if script[0] == 'cd "$CI_PROJECT_DIR"' else script[0]
        assert first.startswith("uvci_n=0\n"), name
        assert (f"{sh.DIST})" in first) is (once and name != "uvci-build")
        assert (f"{sh.FILLED_FOR})" in first) is (layout == "shared")  # restored by the delta


@pytest.mark.parametrize("layout", ["per-cell", "shared"])
def test_no_job_weakens_the_protected_cache_split(layout: str) -> None:
    """docs/security.md: protected pipelines never restore an unprotected pipeline's cache."""
    shape = Shape(("3.11", "3.12"), LocalBuilds((".",), ("p: pure",)), layout)  # type: ignore[arg-type]
    jobs = build_jobs(shape, _options(build_once=True))
    caches = [c for n, job in jobs.items() if n != ".uvci" for c in job.get("cache", [])]
    assert caches and all("unprotect" not in cache for cache in caches)
    assert all(
        str(cache["key"]).startswith(("uvci-v3-base-", "uvci-v3-delta-")) for cache in caches
    )


def test_a_build_once_cell_keeps_the_build_jobs_wheel_but_not_a_link_in_its_place(
    tmp_path: Path,
) -> None:
    other = outside(tmp_path)
    step = clean_uvci_dir([sh.WHEELHOUSE, sh.DIST], [sh.FILLED_FOR])
    (tmp_path / "a" / sh.DIST).mkdir(parents=True)
    (tmp_path / "a" / sh.DIST / "app-1-py3-none-any.whl").write_text("the artifact\n")
    (tmp_path / "a" / sh.FILLED_FOR).write_text("0" * 64 + "\n")
    assert run(["sh"], step, tmp_path / "a").returncode == 0
    assert (tmp_path / "a" / sh.DIST / "app-1-py3-none-any.whl").is_file()
    assert (tmp_path / "a" / sh.FILLED_FOR).is_file()  # the shared writer's record: a file
    (tmp_path / "b" / ".uvci").mkdir(parents=True)
    (tmp_path / "b" / sh.DIST).symlink_to(other / "dir", target_is_directory=True)
    assert run(["sh"], step, tmp_path / "b").returncode == 0
    assert not (tmp_path / "b" / sh.DIST).exists() and untouched(other)


def test_a_clean_wheelhouse_is_not_marked_and_a_cleaned_one_is_saved(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / sh.WHEELHOUSE).mkdir(parents=True)
    (project / sh.WHEELHOUSE / "alpha-1.0-py3-none-any.whl").write_text("a wheel\n")
    step = clean_uvci_dir([sh.WHEELHOUSE, sh.DELTA], wheelhouses=2)
    moves = sh.keep_if_changed([[sh.WHEELHOUSE], [sh.DELTA]])
    result = run(["sh"], f"mkdir -p {sh.DELTA}\n{step}\n{moves}", project)
    assert result.returncode == 0, result.stderr
    assert not list((project / ".uvci").glob("*.cleaned"))  # nothing removed, nothing marked
    assert "(.uvci/wheels) is unchanged: nothing to upload" in result.stdout
    for restored in (sh.WHEELHOUSE, sh.DELTA):  # the next job restores both
        (project / sh.UNCHANGED_ASIDE / Path(restored).name).rename(project / restored)
    (project / sh.DELTA / "beta-1.0-py3-none-any.whl").symlink_to("/etc/os-release")
    result = run(["sh"], f"{step}\n{moves}", project)
    assert (project / f"{sh.DELTA}.cleaned").is_file() and not (project / sh.DELTA).is_symlink()
    assert "(.uvci/wheels-delta) changed: the runner saves it" in result.stdout, result.stdout
    assert "(.uvci/wheels) is unchanged" in result.stdout
