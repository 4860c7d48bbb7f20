"""Issue 10, secrets: no password or credential query value in any output, file or error.

The lock's URLs carry user-info whose password contains ``@`` and a ``?token=`` query (a
hand-edited lock, or a find-links URL); every output of plan and prefetch is searched for the
secrets, and so is every file prefetch writes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.pyindex import LoopbackIndex
from uvci.cli import main
from uvci.util.redact import redact

PASSWORD = "s3cr@t-pa55@word"
TOKEN = "tok-81c2e9"
SECRETS = (PASSWORD, "pa55@word", "pa55", "word@127", TOKEN)


def with_secret_urls(project: Path, index: LoopbackIndex, *, token_only: bool = False) -> None:
    """Rewrite the lock's file URLs to carry credentials (what a hand-edited lock may hold)."""
    lock = project / "uv.lock"
    base = f"{index.base}/files/"
    userinfo = "" if token_only else f"alice:{PASSWORD}@"
    secret = base.replace("http://", f"http://{userinfo}")
    text = re.sub(
        re.escape(base) + r'([^"]+)"',
        lambda m: f'{secret}{m.group(1)}?token={TOKEN}"',
        lock.read_text(),
    )
    lock.write_text(text)


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, text


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://alice:p@ss@host/simple", "https://alice:****@host/simple"),
        ("http://TOKEN123@host:8080/x", "http://****@host:8080/x"),
        ("https://h/x.whl?token=abc&v=1", "https://h/x.whl?token=****&v=1"),
        (
            "https://h/x?X-Amz-Signature=ab12&X-Amz-Credential=k%2F1",
            "https://h/x?X-Amz-Signature=****&X-Amz-Credential=****",
        ),
        ("https://h/x?api_key=1;private_token=2", "https://h/x?api_key=****;private_token=****"),
        ("see https://h/a?page=2 and mail a@b.c", "see https://h/a?page=2 and mail a@b.c"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_plan_json_and_text_show_no_secret(
    locked_project: LockedProject, index: LoopbackIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    with_secret_urls(project, index)
    rc, out, err = run(capsys, "plan", str(project), "--python", "3.12", "--json")
    assert rc == 0, err
    assert "alice:****@" in out and "?token=****" in out
    assert_clean(out, err)
    rc, out, err = run(capsys, "plan", str(project), "--python", "3.12", "--files")
    assert_clean(out, err)


def test_prefetch_errors_and_files_show_no_secret(
    locked_project: LockedProject,
    index: LoopbackIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("UV_HTTP_RETRIES", "1")
    project = locked_project("pure")
    with_secret_urls(project, index)
    index.fail("gamma-1.1-py3-none-any.whl", status=500, times=None)
    wheelhouse = tmp_path / "wheels"
    rc, out, err = run(
        capsys,
        "prefetch",
        str(project),
        "--python",
        "3.12",
        "--wheelhouse",
        str(wheelhouse),
        "--json",
    )
    assert rc == 2
    assert "?token=****" in err
    assert_clean(out, err)
    index.clear_faults()
    rc, out, err = run(
        capsys,
        "prefetch",
        str(project),
        "--python",
        "3.12",
        "--wheelhouse",
        str(wheelhouse),
        "--json",
    )
    assert rc == 0, err
    assert_clean(out, err)
    for path in [*wheelhouse.iterdir(), *tmp_path.glob("wheels.*")]:
        if path.is_file():
            assert_clean(path.read_bytes().decode("utf-8", "replace"))


def test_not_found_error_masks_a_token_only_url(
    locked_project: LockedProject, index: LoopbackIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    with_secret_urls(project, index, token_only=True)
    index.fail("gamma-1.1-py3-none-any.whl", status=404, times=None)
    rc, _, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    assert "gamma-1.1-py3-none-any.whl?token=****" in err
    assert_clean(err)


DOCTORED = """\
.t:
  image: ghcr.io/astral-sh/uv:0.9.0-python3.12-bookworm-slim
  script:
    - uv pip install --index-url https://bob:PASSWORD@pypi.corp/simple?token=TOKEN requests
    - pytest
a:
  extends: .t
b:
  extends: .t
"""


@pytest.mark.parametrize("fmt", ["text", "json", "codeclimate"])
def test_doctor_quotes_scripts_without_their_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    text = DOCTORED.replace("PASSWORD", PASSWORD).replace("TOKEN", TOKEN)
    (tmp_path / ".gitlab-ci.yml").write_text(text)
    rc, out, err = run(capsys, "doctor", str(tmp_path), "--format", fmt)
    assert rc == 1, err
    assert "bob:****@pypi.corp" in out
    assert_clean(out, err)
