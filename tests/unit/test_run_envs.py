"""uvci.runner.envs: environments are built under a temp name, published whole, leftovers go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from uvci.model.plan import Cell, PlannedPackage
from uvci.runner import envs
from uvci.util.uvproc import ChildGroups


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_leftovers_of_an_interrupted_run_are_removed_and_complete_envs_kept(
    tmp_path: Path,
) -> None:
    half = envs.envs_dir(tmp_path) / f".building-3.12-{_dead_pid()}"
    (half / "bin").mkdir(parents=True)
    live = envs.envs_dir(tmp_path) / f".building-3.13-{os.getppid()}"  # another run, going on
    live.mkdir()
    complete = envs.final_dir(tmp_path, "3.11")
    complete.mkdir(parents=True)
    assert envs.remove_leftovers(tmp_path) == [half]
    assert not half.exists() and complete.is_dir() and live.is_dir()


def test_publish_replaces_the_previous_environment(tmp_path: Path) -> None:
    final = envs.final_dir(tmp_path, "3.12")
    final.mkdir(parents=True)
    (final / "old").write_text("stale")
    building = envs.building_dir(tmp_path, "3.12")
    building.mkdir()
    (building / "new").write_text("fresh")
    envs.publish(building, final)
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert sorted(p.name for p in envs.envs_dir(tmp_path).iterdir()) == ["3.12"]


def test_a_relocatable_venv_works_after_the_rename(
    tmp_path: Path, each_python: tuple[str, Path]
) -> None:
    minor, interpreter = each_python
    children = ChildGroups()
    building = envs.building_dir(tmp_path, minor)
    envs.create(children, interpreter, building)
    final = envs.final_dir(tmp_path, minor)
    envs.publish(building, final)
    code = "import sys; print(sys.prefix, '%d.%d' % sys.version_info[:2])"
    rc, out, _ = children.run([str(envs.env_python(final)), "-c", code])
    assert rc == 0 and out.split() == [str(final), minor]


def test_the_test_environment_activates_the_cell_venv(tmp_path: Path) -> None:
    environ = envs.test_environ(tmp_path, {"PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert environ["VIRTUAL_ENV"] == str(tmp_path)
    assert environ["PATH"].split(":")[0] == str(tmp_path / "bin")
    assert "PYTHONHOME" not in environ


def _cell(gamma_sha: str) -> Cell:
    gamma = PlannedPackage("gamma", "1.1", "wheel", "gamma-1.1-py3-none-any.whl",
                           "http://x/gamma.whl", gamma_sha, 10, "http://x/simple")  # fmt: skip
    return Cell("3.12", (gamma,))


def test_an_environment_is_reused_only_with_the_same_stamp(tmp_path: Path) -> None:
    env = envs.final_dir(tmp_path, "3.12")
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    interpreter = Path("/py/3.12/bin/python")
    stamp = envs.fingerprint(interpreter, "3.12.1", _cell("aa"))
    assert not envs.reusable(env, stamp)  # never stamped: not trusted
    envs.stamp(env, stamp)
    assert envs.reusable(env, stamp)
    assert envs.reusable(env, envs.fingerprint(interpreter, "3.12.1", _cell("aa")))
    assert not envs.reusable(env, envs.fingerprint(interpreter, "3.12.1", _cell("bb")))
    assert not envs.reusable(env, envs.fingerprint(interpreter, "3.12.2", _cell("aa")))
    envs.unstamp(env)
    assert not envs.reusable(env, stamp)


def test_the_projects_wheels_are_known_installed_only_after_a_completed_install(
    tmp_path: Path,
) -> None:
    env, wheel = tmp_path / "env", tmp_path / "app-1.0-py3-none-any.whl"
    env.mkdir()
    wheel.write_bytes(b"first")
    digests = envs.wheel_digests([wheel])
    assert not envs.has_local(env, digests)  # never installed
    envs.record_local(env, digests)
    assert envs.has_local(env, digests)
    wheel.write_bytes(b"rebuilt from changed sources")
    assert not envs.has_local(env, envs.wheel_digests([wheel]))
    envs.forget_local(env)  # an install starts: until it completes, nothing is known
    assert not envs.has_local(env, digests)
    (env / envs.LOCAL).write_text("{not json")
    assert not envs.has_local(env, digests)
