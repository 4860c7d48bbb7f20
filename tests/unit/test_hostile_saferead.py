"""Issue 19: the two helpers every hostile name and file goes through, on their own.

``uvci.model.distname``: the one check that a name may become a path. ``uvci.util.saferead``:
the one way to read a file a cache may have planted (no link, FIFO or device; bounded).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from uvci.model.distname import BadName, check_dist_name, inside, plain_dist_name
from uvci.util.atomicfile import write_if_changed
from uvci.util.saferead import UnsafeFile, open_regular, read_bounded


@pytest.mark.parametrize(
    "name",
    [
        "gamma-1.1-py3-none-any.whl",
        "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "srconly-1.0.tar.gz",
        "pkg-1.0+local.7-py3-none-any.whl",
        "old_style-0.1.zip",
    ],
)
def test_plain_distribution_names_pass(name: str) -> None:
    assert plain_dist_name(name) and check_dist_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../gamma-1.1-py3-none-any.whl",
        "/etc/gamma-1.1-py3-none-any.whl",
        "sub/gamma-1.1-py3-none-any.whl",
        "gamma\x00-1.1-py3-none-any.whl",
        "gamma-1.1-py3-none-any.whl\n",
        "gamma 1.1.whl",
        ".hidden-1.0.tar.gz",
        "..",
        "manifest.json",
        "a" * 300 + ".whl",
        "",
        5,
        None,
    ],
)
def test_anything_else_is_refused(name: object) -> None:
    assert not plain_dist_name(name)
    with pytest.raises(BadName, match="is not a plain distribution file name"):
        check_dist_name(name)


def test_inside_joins_only_plain_names(tmp_path: Path) -> None:
    assert inside(tmp_path, "x-1.0.tar.gz") == tmp_path / "x-1.0.tar.gz"
    with pytest.raises(BadName):
        inside(tmp_path, "../x-1.0.tar.gz")


def test_read_bounded_reads_regular_files_within_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert read_bounded(path, 5) == b"12345"
    with pytest.raises(UnsafeFile, match="larger than 4 bytes"):
        read_bounded(path, 4)


def test_read_bounded_never_follows_blocks_on_or_drains_a_special_file(tmp_path: Path) -> None:
    fifo, link, zero = tmp_path / "fifo", tmp_path / "link", tmp_path / "zero"
    os.mkfifo(fifo)  # a plain open would block until a writer comes
    (tmp_path / "target").write_text("elsewhere")
    link.symlink_to(tmp_path / "target")
    zero.symlink_to("/dev/zero")
    for path in (fifo, link, zero, tmp_path):
        with pytest.raises(UnsafeFile):
            read_bounded(path, 1024)
    assert read_bounded(link, 1024, follow=True) == b"elsewhere"
    with pytest.raises(UnsafeFile, match="not a regular file"):
        read_bounded(zero, 1024, follow=True)
    with pytest.raises(UnsafeFile, match="not a regular file"):
        open_regular(fifo)


def test_write_if_changed_replaces_a_planted_special_file(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("theirs")
    link = tmp_path / "requirements-3.12.txt"
    link.symlink_to(target)
    assert write_if_changed(link, "pins\n")
    assert not link.is_symlink() and link.read_text() == "pins\n"
    assert target.read_text() == "theirs"
    fifo = tmp_path / "SHA256SUMS-3.12"
    os.mkfifo(fifo)
    assert write_if_changed(fifo, "sums\n") and fifo.read_text() == "sums\n"
