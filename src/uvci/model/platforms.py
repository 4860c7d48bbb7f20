"""Target platforms, named as uv's ``--python-platform`` names them.

A :class:`Target` answers the two questions the plan asks of a cell: which environment markers
hold there, and in which order uv prefers wheel tags there.
"""

from __future__ import annotations

import platform as _py_platform
import re
import sys
from dataclasses import dataclass

from packaging import tags

from uvci.errors import FatalError
from uvci.model.project import minor_of, version_key

DEFAULT_PLATFORM = "x86_64-manylinux_2_40"  # uv's trixie images (glibc 2.41); uv names up to 2_40

MAX_MANYLINUX = 40  # the newest manylinux_2_X name uv knows

_ARCH_MARKER = {"x86_64": "x86_64", "aarch64": "aarch64", "i686": "i686"}
_DARWIN_ARCH = {"aarch64": "arm64", "x86_64": "x86_64"}
_WINDOWS = {
    "x86_64-pc-windows-msvc": ("win_amd64", "AMD64"),
    "aarch64-pc-windows-msvc": ("win_arm64", "ARM64"),
    "i686-pc-windows-msvc": ("win32", "x86"),
}
_ALIASES = {
    "linux": "x86_64-unknown-linux-gnu",
    "windows": "x86_64-pc-windows-msvc",
    "macos": "aarch64-apple-darwin",
    "x86_64-unknown-linux-gnu": "x86_64-manylinux_2_28",
    "aarch64-unknown-linux-gnu": "aarch64-manylinux_2_28",
    "x86_64-manylinux2014": "x86_64-manylinux_2_17",
    "aarch64-manylinux2014": "aarch64-manylinux_2_17",
}
_MANYLINUX = re.compile(r"^(x86_64|aarch64)-manylinux_2_(\d+)$")
_MUSL = re.compile(r"^(x86_64|aarch64)-unknown-linux-musl$")
_DARWIN = re.compile(r"^(x86_64|aarch64)-apple-darwin$")
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_MACOS_MIN = (13, 0)  # uv's default: the oldest macOS that is not end-of-life


@dataclass(frozen=True)
class Target:
    """A platform to plan for: uv's name, marker values, and platform tags (best first)."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    platform_tags: tuple[str, ...]

    def markers(self, python_full_version: str) -> dict[str, str]:
        """The PEP 508 marker environment of CPython ``python_full_version`` on this target."""
        major_minor = minor_of(python_full_version)
        return {
            "implementation_name": "cpython",
            "implementation_version": python_full_version,
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": python_full_version,
            "python_version": major_minor,
            "sys_platform": self.sys_platform,
        }

    def tag_priority(self, python: str) -> dict[tags.Tag, int]:
        """Every tag CPython ``python`` (``3.12``) accepts here, mapped to its rank (0 = best)."""
        version = version_key(minor_of(python))
        interpreter = f"cp{version[0]}{version[1]}"
        ordered = [
            *tags.cpython_tags(version, abis=[interpreter], platforms=self.platform_tags),
            *tags.compatible_tags(version, interpreter=interpreter, platforms=self.platform_tags),
        ]
        priority: dict[tags.Tag, int] = {}
        for rank, tag in enumerate(ordered):
            priority.setdefault(tag, rank)
        return priority


def _manylinux_tags(arch: str, glibc_minor: int) -> tuple[str, ...]:
    lowest = 5 if arch in ("x86_64", "i686") else 17
    out: list[str] = []
    for minor in range(glibc_minor, lowest - 1, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        legacy = _LEGACY_MANYLINUX.get(minor)
        if legacy is not None:
            out.append(f"{legacy}_{arch}")
    out.append(f"linux_{arch}")
    return tuple(out)


def _linux(name: str, arch: str, platform_tags: tuple[str, ...]) -> Target:
    return Target(name, "linux", "Linux", _ARCH_MARKER[arch], "posix", platform_tags)


def resolve_target(name: str) -> Target:
    """The :class:`Target` for a uv ``--python-platform`` name; a clear error otherwise."""
    canonical = _ALIASES.get(name, name)
    if canonical != name and canonical in _ALIASES:
        canonical = _ALIASES[canonical]
    if match := _MANYLINUX.match(canonical):
        arch, minor = match.group(1), int(match.group(2))
        if minor < 17 or minor > MAX_MANYLINUX:
            raise _unknown(name)
        return _linux(name, arch, _manylinux_tags(arch, minor))
    if match := _MUSL.match(canonical):
        arch = match.group(1)
        musl = tuple(f"musllinux_1_{minor}_{arch}" for minor in (2, 1, 0))
        return _linux(name, arch, (*musl, f"linux_{arch}"))
    if match := _DARWIN.match(canonical):
        arch = _DARWIN_ARCH[match.group(1)]
        mac = tuple(tags.mac_platforms(_MACOS_MIN, arch))
        return Target(name, "darwin", "Darwin", arch, "posix", mac)
    if canonical in _WINDOWS:
        tag, machine = _WINDOWS[canonical]
        return Target(name, "win32", "Windows", machine, "nt", (tag,))
    raise _unknown(name)


def host_platform() -> str:
    """uv's ``--python-platform`` name of this machine (``uvci run`` plans for it)."""
    machine = _py_platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    system = sys.platform
    if system == "darwin":
        return f"{arch}-apple-darwin"
    if system == "win32":
        return f"{arch}-pc-windows-msvc"
    libc, version = _py_platform.libc_ver()
    if libc == "glibc" and version:
        minor = min(int(version.split(".")[1]), MAX_MANYLINUX)
        return f"{arch}-manylinux_2_{minor}"
    return f"{arch}-unknown-linux-musl"


def _unknown(name: str) -> FatalError:
    return FatalError(
        f"unknown platform {name!r}: use one of uv's --python-platform names, e.g. "
        f"{DEFAULT_PLATFORM} (uv's Debian trixie images), aarch64-manylinux_2_28, "
        "x86_64-unknown-linux-musl (alpine), aarch64-apple-darwin, x86_64-pc-windows-msvc"
    )
