"""bench.archive's zip at the fastest level stores entries as the runner's fastzip does, and
bench.archive_formats measures every format on one wheelhouse."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from bench.archive import create, extract
from bench.archive_formats import VARIANTS, measure


def wheelhouse(root: Path) -> Path:
    wheels = root / "work" / ".uvci" / "wheels"
    wheels.mkdir(parents=True)
    (wheels / "a-1-py3-none-any.whl").write_bytes(os.urandom(50_000) + b"x" * 50_000)
    return wheels


def test_zip_fastest_stores_entries_and_extracts_them(tmp_path: Path) -> None:
    wheels = wheelhouse(tmp_path)
    work = wheels.parent.parent
    for fastest, method in ((True, zipfile.ZIP_STORED), (False, zipfile.ZIP_DEFLATED)):
        out = tmp_path / f"cache-{fastest}.zip"
        create(work, (".uvci/wheels",), out, "zip", fastest=fastest)
        with zipfile.ZipFile(out) as zf:
            files = [i for i in zf.infolist() if not i.is_dir()]
            assert {i.compress_type for i in files} == {method}
        target = tmp_path / f"out-{fastest}"
        target.mkdir()
        extract(out, target, "zip")
        restored = target / ".uvci/wheels/a-1-py3-none-any.whl"
        assert restored.read_bytes() == (wheels / "a-1-py3-none-any.whl").read_bytes()


def test_every_format_is_measured_on_the_same_bytes(tmp_path: Path) -> None:
    rows = measure(wheelhouse(tmp_path), rounds=1)
    assert [row["format"] for row in rows] == [name for name, _, _ in VARIANTS]
    assert len({row["data_bytes"] for row in rows}) == 1
    stored = next(row for row in rows if "stored" in str(row["format"]))
    deflated = next(row for row in rows if "deflate" in str(row["format"]))
    assert int(str(stored["archive_bytes"])) > int(str(deflated["archive_bytes"]))
