"""Cell environments that a run never trusts half-built.

An environment is created under a temporary name (``envs/.building-<py>-<pid>``) with
``uv venv --relocatable``, filled, stamped with a fingerprint of what it holds (``uvci-env.json``:
the interpreter and every file the plan installs in the cell, with its sha256), then renamed to
``envs/<py>``: a directory
with the final name is complete by construction. A later run reuses it only when the stamp
matches exactly (``--fresh`` never does); leftovers of an interrupted run (``.building-*``) are
deleted, never used.

The project's own wheels, rebuilt by every run, are reinstalled only when one differs (by
sha256) from what ``uvci-local.json`` says was last installed: a reproducible build (uv_build,
hatchling) of unchanged sources is not installed again. The record is removed before an
install and written after it succeeds, so an interrupted one leaves none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from uvci.model.plan import Cell
from uvci.util.uvproc import ChildGroups, check, uv_executable

BUILDING_PREFIX = ".building-"
STAMP = "uvci-env.json"
LOCAL = "uvci-local.json"  # the project's own wheels last installed: file name -> sha256


def envs_dir(run_dir: Path) -> Path:
    return run_dir / "envs"


def final_dir(run_dir: Path, python: str) -> Path:
    return envs_dir(run_dir) / python


def building_dir(run_dir: Path, python: str) -> Path:
    return envs_dir(run_dir) / f"{BUILDING_PREFIX}{python}-{os.getpid()}"


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def fingerprint(interpreter: Path, version: str, cell: Cell) -> str:
    """What a cell environment holds: its interpreter and the plan's packages for the cell."""
    packages = sorted((p.name, p.version, p.kind, p.file, p.sha256) for p in cell.packages)
    digest = hashlib.sha256(json.dumps(packages).encode()).hexdigest()
    return json.dumps({"interpreter": str(interpreter), "version": version, "packages": digest})


def stamp(env: Path, fingerprint_: str) -> None:
    """Record what ``env`` holds (written last, before the rename that publishes it)."""
    (env / STAMP).write_text(fingerprint_ + "\n", encoding="utf-8")


def reusable(env: Path, expected: str) -> bool:
    """A complete environment (final name) whose stamp says it holds exactly ``expected``."""
    try:
        stamped = (env / STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return stamped == expected and env_python(env).exists()


def unstamp(env: Path) -> None:
    (env / STAMP).unlink(missing_ok=True)


def wheel_digests(wheels: list[Path]) -> dict[str, str]:
    """``{file name: sha256}`` of the project's own wheels for a cell."""
    return {w.name: hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels}


def has_local(env: Path, digests: dict[str, str]) -> bool:
    """Whether ``env``'s last completed install of the project's wheels was exactly these."""
    try:
        recorded = json.loads((env / LOCAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(recorded == digests)


def forget_local(env: Path) -> None:
    (env / LOCAL).unlink(missing_ok=True)


def record_local(env: Path, digests: dict[str, str]) -> None:
    (env / LOCAL).write_text(json.dumps(digests, sort_keys=True) + "\n", encoding="utf-8")


def _owner_alive(path: Path) -> bool:
    """Whether another live process is building ``path`` (its name ends with that pid)."""
    pid = path.name.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(run_dir: Path) -> list[Path]:
    """Delete half-built environments of earlier (interrupted) runs; returns what was removed.

    Those of a run still going in another process are left alone."""
    directory = envs_dir(run_dir)
    if not directory.is_dir():
        return []
    building = (p for p in directory.iterdir() if p.name.startswith(BUILDING_PREFIX))
    stale = sorted(p for p in building if not _owner_alive(p))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def create(children: ChildGroups, interpreter: Path, target: Path) -> None:
    """``uv venv --relocatable`` at ``target`` (removed first if it exists); ProcessError if
    it fails."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [uv_executable(), "venv", "--relocatable", "--no-project", "--quiet", "--python"]
    cmd += [str(interpreter), str(target)]
    check(cmd, children.run(cmd), "uv venv")


def publish(building: Path, final: Path) -> None:
    """Move a complete environment into place, replacing the previous one."""
    if final.exists():
        old = final.with_name(f"{BUILDING_PREFIX}old-{final.name}-{os.getpid()}")
        final.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    building.rename(final)


def discard(building: Path) -> None:
    shutil.rmtree(building, ignore_errors=True)


def test_environ(env: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment variables of a test command: the cell's venv activated."""
    environ = dict(os.environ if base is None else base)
    for key in ("PYTHONHOME", "CONDA_PREFIX", "PYTHONPATH"):
        environ.pop(key, None)
    environ["VIRTUAL_ENV"] = str(env)
    environ["PATH"] = os.pathsep.join([str(env / "bin"), environ.get("PATH", "")])
    return environ
