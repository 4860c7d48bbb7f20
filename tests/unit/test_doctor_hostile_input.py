"""doctor on input that must not leak or stall: secrets in the printed diff, a huge file."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from uvci.cli import main
from uvci.gitlab.read.loader import MAX_FILE_BYTES

DATA = Path(__file__).parents[1] / "data" / "pipelines"
SECRET_LINE = "    - uv sync --index-url https://ci:s3cret@pypi.example/simple\n"


def project_with_secret(tmp_path: Path) -> Path:
    case = tmp_path / "p"
    shutil.copytree(DATA / "negative" / "UVC024-lock-current", case)  # a current uv.lock
    ci = case / ".gitlab-ci.yml"
    ci.write_text(ci.read_text().replace("    - uv sync --locked\n", SECRET_LINE))
    return case


def test_dry_run_masks_url_passwords_in_the_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = project_with_secret(tmp_path)
    before = (case / ".gitlab-ci.yml").read_text()
    assert main(["doctor", str(case), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "+    - uv sync --locked --index-url https://ci:****@pypi.example/simple" in out
    assert "s3cret" not in out
    assert "`--fix` writes the real file" in out
    assert (case / ".gitlab-ci.yml").read_text() == before


def test_fix_writes_the_real_line_and_prints_it_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = project_with_secret(tmp_path)
    main(["doctor", str(case), "--fix"])
    assert "s3cret" not in capsys.readouterr().out
    written = (case / ".gitlab-ci.yml").read_text()
    assert "uv sync --locked --index-url https://ci:s3cret@pypi.example/simple" in written


def test_a_file_larger_than_gitlab_accepts_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ci = tmp_path / ".gitlab-ci.yml"
    line = "# " + "x" * 98 + "\n"
    ci.write_text("job:\n  script: [uv sync]\n" + line * (MAX_FILE_BYTES // len(line) + 1))
    start = time.monotonic()
    assert main(["doctor", str(tmp_path)]) == 2
    assert time.monotonic() - start < 5  # refused before it is parsed
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "GitLab refuses a CI file over 2 MiB" in captured.err


def test_an_include_larger_than_gitlab_accepts_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("include: big.yml\n")
    (tmp_path / "big.yml").write_text("# pad\n" * (MAX_FILE_BYTES // 6 + 1))
    assert main(["doctor", str(tmp_path)]) == 2
    assert "big.yml" in capsys.readouterr().err
