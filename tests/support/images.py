"""Local container images for running generated pipelines as a GitLab docker runner would.

No Docker engine and no registry: podman (rootful, ``CONTAINERS_CONF`` = ``containers.conf``
beside this file) and images built here from a Debian rootfs made by ``debootstrap``, tagged
with the names the pipelines ask for, so that ``gitlab-ci-local --container-executable podman
--pull-policy if-not-present`` finds them locally and never pulls:

- ``localhost/uvci-test/base:<suite>-<hash>``: ``debootstrap --variant=minbase <suite>`` plus
  the shared libraries the CPython builds load, ``ca-certificates``, ``netbase``, ``tzdata``
  (the packages of the official ``python:3.X-slim`` images). The rootfs is cached as a tarball
  in the store directory (``UVCI_IMAGE_STORE``, default ``/var/cache/uvci-test-images``).
- ``docker.io/firecow/gitlab-ci-local-util:latest``: base + ``rsync`` + ``git``: the helper
  image gitlab-ci-local copies the project and caches with (always on trixie: one name).
- ``ghcr.io/astral-sh/uv:<uv>-python3.X-<suite>-slim``, one per installed CPython 3.10-3.13
  (``tests.support.pythons``; ``suite`` trixie by default, ``bookworm`` on request): base +
  that CPython in ``/usr/local`` (``python3.X``, ``python3``, ``python`` in ``/usr/local/bin``,
  ``libpython3.X.so`` in ``/usr/local/lib``, ``ldconfig`` run) + ``uv``/``uvx`` of the tests'
  one uv version (the ``uv==`` pin of pyproject.toml's ``uv`` group, locked in ``uv.lock``; the
  static musl build, from PyPI's musllinux wheel, as in uv's image) in ``/usr/local/bin``,
  with the env of uv's image (``UV_TOOL_BIN_DIR=/usr/local/bin``, ``ENTRYPOINT []``,
  ``CMD ["/usr/local/bin/uv"]``) and of ``python:3.X-slim`` (``PATH=/usr/local/bin:...``,
  ``LANG=C.UTF-8``, ``PYTHON_VERSION``).
  No git, no pip.

Each image carries a label ``uvci.recipe`` = a hash of its recipe (its Containerfile, which names
the base image, itself named by a hash of the suite and package list; ``RECIPE_VERSION``; the
CPython exclusions) and of its inputs (the CPython version and build, the uv version): an image
whose label matches is reused, any other is rebuilt. Checking costs one ``podman images`` call.

Differences from the real images (deliberate, see ``tests/support/README.md``): the CPython is
the machine's pyenv build (a bookworm build, same patch release as the host's, not the image's
latest), with no ``pip``, no ``idle``/``pydoc``/``python3-config`` scripts, no ``test``
packages, no static ``libpython``, no tkinter libraries; its ``site-packages`` is empty.

The uv binaries come from the package index through uv itself (``uv pip install --target``,
``--require-hashes``): the hash of the locked version's wheel is the one ``uv.lock`` records;
for another version (``--uv``) it is the index's, as a fresh ``uv lock`` would take it.

CLI: ``python -m tests.support.images [--pythons 3.10,3.12] [--suite trixie] [--uv VERSION]
[--check]``. Building needs root, podman, debootstrap, a uv, and network to a Debian mirror
(``UVCI_DEBIAN_MIRROR``, default: the host's apt source) and to PyPI (the ``uv`` wheel).
``UVCI_IMAGE_STORE`` names the store; ``CONTAINERS_STORAGE_CONF`` (as podman reads it) the
podman storage: ``scripts/test`` sets both to empty directories of its own under ``CI=true``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if __package__ in (None, ""):  # `python tests/support/images.py`
    sys.path.insert(0, str(REPO))

import tomli  # noqa: E402  (uvci's own TOML reader, on every Python)

from tests.support.pythons import MATRIX, find_pythons  # noqa: E402

CONTAINERS_CONF = HERE / "containers.conf"
PODMAN_GCL = HERE / "podman-gcl"  # podman for gitlab-ci-local's --container-executable
UV_LOCK = REPO / "uv.lock"
UTIL_IMAGE = "docker.io/firecow/gitlab-ci-local-util:latest"
LABEL = "uvci.recipe"
SUITE = "trixie"
DEFAULT_STORE = "/var/cache/uvci-test-images"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEAD_PROXY = "http://127.0.0.1:9"  # tests.support.projects.DEAD_PROXY: never for real builds
# the packages of python:3.X-slim: the runtime libraries of CPython's extension modules
# (ssl, sqlite3, ctypes, lzma, bz2, readline, curses, zlib, uuid, nis) and three basics
PYTHON_LIBS = {
    "trixie": "libssl3t64 libffi8 libsqlite3-0 libbz2-1.0 liblzma5 libreadline8t64 "
    "libncursesw6 libtinfo6 libexpat1 libuuid1 zlib1g libnsl2 libtirpc3t64",
    "bookworm": "libssl3 libffi8 libsqlite3-0 libbz2-1.0 liblzma5 libreadline8 "
    "libncursesw6 libtinfo6 libexpat1 libuuid1 zlib1g libnsl2 libtirpc3",
}
BASICS = "ca-certificates netbase tzdata"
UTIL_PACKAGES = "rsync git"
# uv's image ships the static musl build of uv (its Dockerfile: x86_64-unknown-linux-musl);
# the musllinux wheel on PyPI carries that build
UV_WHEEL_PLATFORM = "musllinux_1_1_x86_64"
UV_TARGET = "x86_64-unknown-linux-musl"  # uv's --python-platform that picks that wheel
# read when this module is imported: tests replace os.environ with a hermetic copy later
STORAGE_CONF = os.environ.get("CONTAINERS_STORAGE_CONF", "")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PYTHON_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
# what the images leave out of the CPython tree (relative to its prefix, rsync patterns)
PYTHON_EXCLUDES = (
    "/lib/python3.*/test/",
    "/lib/python3.*/idlelib/",
    "/lib/python3.*/tkinter/",
    "/lib/python3.*/turtledemo/",
    "/lib/python3.*/site-packages/*",
    "/lib/python3.*/lib-dynload/_tkinter*",
    "tests/",
    "idle_test/",
    "*.a",
    "/bin/",
    "/share/",
    "/lib/pkgconfig/",
)
# must import in every image (each needs a system library)
SELF_CHECK = (
    "import ssl, sqlite3, ctypes, lzma, bz2, zlib, readline, curses, uuid, decimal, hashlib, "
    "json, venv, ensurepip; import sys; print(sys.version.split()[0])"
)

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class LockedUv:
    version: str
    wheel_hash: str  # "sha256:..." of the musllinux wheel, as uv.lock records it


def locked_uv(lock: Path = UV_LOCK) -> LockedUv:
    """The tests' one uv: the ``uv`` package of ``uv.lock`` (pyproject.toml's ``uv`` group)."""
    packages = tomli.loads(lock.read_text(encoding="utf-8")).get("package", [])
    for package in packages:
        if package.get("name") != "uv":
            continue
        for wheel in package.get("wheels", []):
            if wheel.get("url", "").endswith(f"-{UV_WHEEL_PLATFORM}.whl"):
                return LockedUv(str(package["version"]), str(wheel["hash"]))
        raise RuntimeError(f"{lock}: uv {package.get('version')} has no {UV_WHEEL_PLATFORM} wheel")
    raise RuntimeError(f"{lock}: no uv package (pyproject.toml's `uv` group pins it)")


def uv_version() -> str:
    """The tests' one uv version (:func:`locked_uv`)."""
    return locked_uv().version


def uv_image(minor: str, uv: str | None = None, suite: str = SUITE) -> str:
    """``ghcr.io/astral-sh/uv:<uv>-python<minor>-<suite>-slim`` (uv's own image name)."""
    return f"ghcr.io/astral-sh/uv:{uv or uv_version()}-python{minor}-{suite}-slim"


STORE = os.environ.get("UVCI_IMAGE_STORE", "")  # read at import, like STORAGE_CONF


def store_dir() -> Path:
    return Path(os.environ.get("UVCI_IMAGE_STORE") or STORE or DEFAULT_STORE)


def podman_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) + ``CONTAINERS_CONF``: the env for podman and for
    gitlab-ci-local started with ``--container-executable podman``."""
    env = dict(os.environ if base is None else base)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    if STORAGE_CONF:
        env["CONTAINERS_STORAGE_CONF"] = STORAGE_CONF
    path = env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    # netavark (podman's network backend) runs iptables from /usr/sbin
    env["PATH"] = os.pathsep.join([*path, *(d for d in ("/usr/sbin", "/sbin") if d not in path)])
    return env


def unavailable() -> str | None:
    """Why images cannot be used or built here, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/bootstrap-tools installs it, as root)"
    if os.geteuid() != 0:
        return "the container tests need root (rootful podman, debootstrap)"
    return None


def _build_env() -> dict[str, str]:
    """The environment for network steps: the tests' dead proxy and uv settings removed."""
    env = podman_env()
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        if env.get(key) == DEAD_PROXY:
            del env[key]
    for key in [k for k in env if k.startswith("UV_")]:
        del env[key]  # a test's offline mode, loopback index or private cache
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def _run(argv: Sequence[str], *, input: bytes | None = None, timeout: float = 900,
         cwd: Path | None = None) -> str:  # fmt: skip
    done = subprocess.run(list(argv), input=input, capture_output=True, timeout=timeout,
                          env=_build_env(), cwd=cwd)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n"
            + done.stderr.decode(errors="replace")[-4000:]
            + done.stdout.decode(errors="replace")[-2000:]
        )
    return done.stdout.decode(errors="replace")


def debian_mirror() -> str:
    """``UVCI_DEBIAN_MIRROR``, else the host's first ``.../debian`` apt source, else deb.d.o."""
    if os.environ.get("UVCI_DEBIAN_MIRROR"):
        return os.environ["UVCI_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        with contextlib.suppress(OSError):
            for url in re.findall(r"(?:^|\s)(https?://\S+/debian)/?(?:\s|$)", path.read_text()):
                return str(url)
    return DEFAULT_MIRROR


def _sha(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:16]


# Bump when a build step changes in a way the hashed inputs below do not show (the staging of
# the CPython tree, the debootstrap/tar steps): every image is rebuilt once.
RECIPE_VERSION = 1


@dataclass(frozen=True)
class PythonBuild:
    minor: str  # "3.12"
    version: str  # "3.12.1"
    prefix: Path  # /root/.pyenv/versions/3.12.1

    @property
    def identity(self) -> str:
        """Changes when the installed build changes (same path rebuilt, or another patch)."""
        exe = self.prefix / "bin" / f"python{self.minor}"
        stat = exe.stat()
        return f"{self.version}:{self.prefix}:{stat.st_size}:{stat.st_mtime_ns}"


def python_builds(minors: Sequence[str] = MATRIX) -> dict[str, PythonBuild]:
    """The installed CPythons (``find_pythons``) with their prefix and full version."""
    builds = {}
    for minor, exe in find_pythons(tuple(minors)).items():
        out = subprocess.run(
            [str(exe), "-c", "import sys; print(sys.base_prefix); print(sys.version.split()[0])"],
            capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        prefix, version = out.stdout.split()
        builds[minor] = PythonBuild(minor, version, Path(prefix))
    return builds


@dataclass
class Images:
    """What :func:`ensure_images` made sure of."""

    util: str
    base: str
    python: dict[str, str]  # minor -> image name
    versions: dict[str, str]  # minor -> full CPython version in that image
    uv_version: str
    built: list[str] = field(default_factory=list)  # images (re)built by this call
    seconds: float = 0.0

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return podman_env(base)


class Builder:
    def __init__(self, suite: str = SUITE, store: Path | None = None, log: Log = _stderr) -> None:
        if suite not in PYTHON_LIBS:
            raise ValueError(f"unknown suite {suite!r} (known: {sorted(PYTHON_LIBS)})")
        self.suite = suite
        self.store = store or store_dir()
        self.log = log
        self.packages = " ".join([PYTHON_LIBS[suite], BASICS]).split()
        self.base_hash = _sha("minbase", suite, *self.packages)
        self.base_image = f"localhost/uvci-test/base:{suite}-{self.base_hash}"
        self.recipe = _sha(RECIPE_VERSION, PYTHON_EXCLUDES)
        self._labels: dict[str, str] | None = None
        self._ids: dict[str, str] = {}

    # -- podman state ------------------------------------------------------------------------

    def labels(self) -> dict[str, str]:
        """``{image name: uvci.recipe label}`` of every local image (one podman call)."""
        if self._labels is None:
            listed = json.loads(_run(["podman", "images", "--format", "json"]) or "[]")
            self._labels = {}
            for image in listed:
                label = (image.get("Labels") or {}).get(LABEL, "")
                for name in image.get("Names") or []:
                    self._labels[name] = label
                    self._ids[name] = image.get("Id", "")
                if label and not image.get("Names") and image.get("Id"):
                    # ours, replaced while a container still used it: remove it now if unused
                    argv = ["podman", "rmi", image["Id"]]
                    subprocess.run(argv, capture_output=True, env=_build_env())
        return self._labels

    def _current(self, name: str, recipe: str) -> bool:
        return self.labels().get(name) == recipe

    def _built(self, name: str, recipe: str) -> None:
        """Record the new image; remove the one it replaced (now untagged) if nothing uses it."""
        self.labels()[name] = recipe
        old = self._ids.pop(name, "")
        if old:
            subprocess.run(["podman", "rmi", old], capture_output=True, env=_build_env())

    # -- the base rootfs ---------------------------------------------------------------------

    @property
    def tarball(self) -> Path:
        return self.store / f"{self.suite}-minbase-{self.base_hash}.tar"

    def rootfs_tarball(self) -> Path:
        """The debootstrap rootfs as a tarball, made once per machine (per package list)."""
        if self.tarball.exists():
            return self.tarball
        self.store.mkdir(parents=True, exist_ok=True)
        mirror = debian_mirror()
        self.log(f"debootstrap --variant=minbase {self.suite} ({mirror}) ...")
        with tempfile.TemporaryDirectory(dir=self.store, prefix="rootfs-") as tmp:
            root = Path(tmp) / "root"
            _run(["debootstrap", "--variant=minbase", f"--include={','.join(self.packages)}",
                  self.suite, str(root), mirror], timeout=1800)  # fmt: skip
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (root / junk).glob("*"):
                    if path.is_file():
                        path.unlink()
            partial = self.tarball.with_suffix(".partial")
            _run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."])
            partial.rename(self.tarball)
        return self.tarball

    def base(self) -> str:
        recipe = _sha(self.recipe, self.base_hash, SYSTEM_PATH)
        if not self._current(self.base_image, recipe):
            tarball = self.rootfs_tarball()
            self.log(f"podman import {self.base_image}")
            changes = [f"ENV PATH={SYSTEM_PATH}", 'CMD ["bash"]', f"LABEL {LABEL}={recipe}"]
            argv = ["podman", "import", *(a for c in changes for a in ("--change", c))]
            _run([*argv, str(tarball), self.base_image])
            self._built(self.base_image, recipe)
        return self.base_image

    # -- derived images ----------------------------------------------------------------------

    def _build(self, name: str, containerfile: str, context: Path) -> None:
        (context / "Containerfile").write_text(containerfile, encoding="utf-8")
        argv = ["podman", "build", "--network", "host", "--pull=never", "--layers=false"]
        argv += ["-f", str(context / "Containerfile"), "-t", name, str(context)]
        _run(argv, timeout=1800)

    def util_containerfile(self) -> tuple[str, str]:
        """(Containerfile, recipe hash) of the util image."""
        containerfile = (
            f"FROM {self.base_image}\n"
            "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            f"--no-install-recommends {UTIL_PACKAGES} && rm -rf /var/lib/apt/lists/* "
            "/var/cache/apt/archives/*.deb\n"
        )
        recipe = _sha(self.recipe, containerfile)
        return f"{containerfile}LABEL {LABEL}={recipe}\n", recipe

    def util(self) -> tuple[str, bool]:
        containerfile, recipe = self.util_containerfile()
        if self._current(UTIL_IMAGE, recipe):
            return UTIL_IMAGE, False
        self.base()
        self.log(f"building {UTIL_IMAGE} (apt-get install {UTIL_PACKAGES})")
        with tempfile.TemporaryDirectory(prefix="uvci-util-") as tmp:
            self._build(UTIL_IMAGE, containerfile, Path(tmp))
        self._built(UTIL_IMAGE, recipe)
        return UTIL_IMAGE, True

    def uv_binaries(self, version: str) -> Path:
        """A directory with ``uv`` and ``uvx`` of ``version`` (PyPI's musllinux wheel, installed
        by uv with ``--require-hashes``; kept in the store)."""
        target = self.store / f"uv-{version}-{UV_WHEEL_PLATFORM}"
        if (target / "uv").exists() and (target / "uvx").exists():
            return target
        self.store.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.store, prefix="uv-") as tmp:
            self.log(f"uv pip install --target ... uv=={version} ({UV_TARGET}, by hash)")
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text(uv_requirement(version), encoding="utf-8")
            site = Path(tmp) / "site"
            _run([*_uv_pip("install"), "--target", str(site), "--no-deps", "--require-hashes",
                  "--only-binary", ":all:", "-r", str(requirements)])  # fmt: skip
            out = site / "bin"
            if not (out / "uv").is_file() or not (out / "uvx").is_file():
                raise RuntimeError(f"uv {version}'s {UV_WHEEL_PLATFORM} wheel has no uv/uvx")
            with contextlib.suppress(FileExistsError, OSError):
                out.rename(target)
        return target

    def python_containerfile(self, build: PythonBuild, uv: str) -> tuple[str, str]:
        """(Containerfile, recipe hash) of the uv image of ``build``."""
        containerfile = (
            f"FROM {self.base_image}\n"
            "COPY local/ /usr/local/\n"
            "RUN ldconfig && "
            f"python{build.minor} -c {_quote(SELF_CHECK)} && uv --version && uvx --version\n"
            f"ENV PATH={PYTHON_PATH} LANG=C.UTF-8 PYTHON_VERSION={build.version} "
            "UV_TOOL_BIN_DIR=/usr/local/bin\n"
            "ENTRYPOINT []\n"
            'CMD ["/usr/local/bin/uv"]\n'
        )
        recipe = _sha(self.recipe, containerfile, build.identity, uv, UV_WHEEL_PLATFORM)
        return f"{containerfile}LABEL {LABEL}={recipe}\n", recipe

    def python(self, build: PythonBuild, uv: str) -> tuple[str, bool]:
        name = uv_image(build.minor, uv, self.suite)
        containerfile, recipe = self.python_containerfile(build, uv)
        if self._current(name, recipe):
            return name, False
        self.base()
        binaries = self.uv_binaries(uv)
        self.log(f"building {name} (CPython {build.version} from {build.prefix})")
        minor = build.minor
        with tempfile.TemporaryDirectory(prefix="uvci-python-") as tmp:
            local = Path(tmp) / "local"
            (local / "bin").mkdir(parents=True)
            excludes = [f"--exclude={pattern}" for pattern in PYTHON_EXCLUDES]
            _run(["rsync", "-a", *excludes, f"{build.prefix}/", f"{local}/"])
            shutil.copy2(build.prefix / "bin" / f"python{minor}", local / "bin" / f"python{minor}")
            (local / "bin" / "python3").symlink_to(f"python{minor}")
            (local / "bin" / "python").symlink_to("python3")
            for tool in ("uv", "uvx"):
                shutil.copy2(binaries / tool, local / "bin" / tool)
            self._build(name, containerfile, Path(tmp))
        self._built(name, recipe)
        return name, True


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _uv_pip(command: str) -> list[str]:
    """``uv pip COMMAND`` for uv's musl build, no config, no cache: from the index itself."""
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("no uv on PATH (scripts/bootstrap-tools installs it)")
    return [uv, "pip", command, "--no-config", "--no-cache", "--python", sys.executable,
            "--python-platform", UV_TARGET, "--python-version", "3.12"]  # fmt: skip


def uv_requirement(version: str) -> str:
    """``uv==VERSION --hash=...``: the locked version by the hash uv.lock records, another by
    the hashes the index gives (``uv pip compile --generate-hashes``, as ``uv lock`` takes them)."""
    locked = locked_uv()
    if version == locked.version:
        return f"uv=={version} --hash={locked.wheel_hash}\n"
    argv = [*_uv_pip("compile"), "--no-header", "--no-annotate", "--generate-hashes", "-"]
    return _run(argv, input=f"uv=={version}\n".encode())


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    """One builder per machine at a time (other worktrees may build the same images)."""
    store.mkdir(parents=True, exist_ok=True)
    with open(store / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_images(minors: Sequence[str] = MATRIX, suite: str = SUITE, store: Path | None = None,
                  log: Log = _stderr, uv: str | None = None) -> Images:  # fmt: skip
    """Make sure the util image and one uv image per installed CPython in ``minors`` exist and
    are current; build what is missing or stale. ``uv``: default the tests' one uv version.
    Returns their names."""
    started = time.monotonic()
    builder = Builder(suite, store, log)
    builds = python_builds(minors)
    uv = uv or uv_version()
    built = []
    # one util image per machine (one name): always on the default suite
    util_builder = builder if suite == SUITE else Builder(SUITE, store, log)
    with _locked(builder.store):
        util, fresh = util_builder.util()
        built += [util] if fresh else []
        names = {}
        for minor, build in sorted(builds.items()):
            names[minor], fresh = builder.python(build, uv)
            built += [names[minor]] if fresh else []
    versions = {minor: build.version for minor, build in builds.items()}
    seconds = time.monotonic() - started
    return Images(util, builder.base_image, names, versions, uv, built, seconds)


def require_images(minors: Sequence[str] = MATRIX, suite: str = SUITE) -> Images:
    """:func:`ensure_images` for a test session: skips (``pytest.skip``) when podman or root is
    missing, except in CI (``CI=true``), where that fails. A failing build always fails."""
    import pytest

    reason = unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"container images: {reason}", pytrace=False)
        pytest.skip(reason)
    return ensure_images(minors, suite)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.images",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pythons", default=",".join(MATRIX), help="minors, e.g. 3.10,3.12")
    parser.add_argument("--suite", default=SUITE, choices=sorted(PYTHON_LIBS))
    parser.add_argument("--store", type=Path, default=None, help=f"default: {DEFAULT_STORE}")
    parser.add_argument("--uv", default=None, help="uv version (default: uv.lock's, the tests')")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    args = parser.parse_args(argv)
    minors = [m.strip() for m in args.pythons.split(",") if m.strip()]
    reason = unavailable()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    if args.check:
        builder = Builder(args.suite, args.store)
        uv = args.uv or uv_version()
        stale = []
        util_builder = builder if args.suite == SUITE else Builder(SUITE, args.store)
        if not builder._current(UTIL_IMAGE, util_builder.util_containerfile()[1]):
            stale.append(UTIL_IMAGE)
        for minor, build in sorted(python_builds(minors).items()):
            name = uv_image(minor, uv, args.suite)
            if not builder._current(name, builder.python_containerfile(build, uv)[1]):
                stale.append(name)
        for name in stale:
            print(f"stale or missing: {name}")
        return 1 if stale else 0
    if args.uv and not re.fullmatch(r"\d+\.\d+\.\d+", args.uv):
        parser.error(f"--uv {args.uv!r}: give a uv release, e.g. {uv_version()}")
    images = ensure_images(minors, args.suite, args.store, uv=args.uv)
    for name in [images.util, *images.python.values()]:
        state = "built" if name in images.built else "reused"
        print(f"{state}: {name}")
    print(f"CONTAINERS_CONF={CONTAINERS_CONF}")
    print(f"{images.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
