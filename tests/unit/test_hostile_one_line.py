"""Issue 10, one line and never a traceback: bad input and broken servers are one line, exit 2;
an unexpected error (a bug) is one line naming uvci's version and where to report it, exit 3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.faulty_index import FaultyIndex
from uvci import __version__
from uvci.cli import main
from uvci.errors import FatalError
from uvci.wheelhouse.credentials import load_auth

GAMMA = "gamma-1.1-py3-none-any.whl"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(list(args))
    return rc, capsys.readouterr().err


def error_line(err: str, command: str) -> str:
    """The one line on stderr; nothing else of uvci's (a progress log may precede it)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith(f"uvci {command}: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_lock_url_with_port_99999(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure")
    lock = project / "uv.lock"
    lock.write_text(re.sub(r"127\.0\.0\.1:\d+/files/", "127.0.0.1:99999/files/", lock.read_text()))
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    line = error_line(err, "prefetch")
    assert re.match(rf"uvci prefetch: error: {re.escape(str(lock))}:\d+: package '\w+'", line)
    assert "Port out of range" in line and "fix the index URL" in line


def test_index_url_with_port_99999(locked_project: LockedProject) -> None:
    # (uv itself refuses it first in `uvci prefetch`; uvci's own reading must not crash either)
    env = {"UV_INDEX": "extra=http://127.0.0.1:99999/simple"}
    with pytest.raises(FatalError) as caught:
        load_auth(locked_project("pure"), env)
    assert caught.value.message.startswith(
        "index URL http://127.0.0.1:99999/simple (extra): Port out of range"
    )


def test_redirect_loop(
    locked_project: LockedProject, faulty: FaultyIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    project = locked_project("pure", index=faulty)
    faulty.redirect(GAMMA, f"/files/{GAMMA}")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    line = error_line(err, "prefetch")
    assert line == (
        f"uvci prefetch: error: {GAMMA}: {faulty.base}/files/{GAMMA} redirects in a loop (or "
        "more than 10 times); check the index URL in uv.lock and the index's redirects"
    )


@pytest.mark.parametrize("value", ["0"])  # uv refuses what is not a whole number first
def test_http_timeout_zero(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("UV_HTTP_TIMEOUT", value)
    rc, err = run(capsys, "prefetch", str(locked_project("pure")), "--python", "3.12")
    assert rc == 2
    assert error_line(err, "prefetch") == (
        f"uvci prefetch: error: UV_HTTP_TIMEOUT={value!r}: must be a number of seconds more "
        "than 0 and finite (default 30); fix or unset it"
    )


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
def test_control_characters_in_gitlab_ci_yml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], char: str
) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(f"test:\n  script:\n    - echo {char}hi\n")
    rc, err = run(capsys, "doctor", str(tmp_path))
    assert rc == 2
    assert error_line(err, "doctor") == (
        f"uvci doctor: error: {tmp_path / '.gitlab-ci.yml'}:3: control character "
        f"U+{ord(char):04X} at column 12, which YAML does not allow (GitLab rejects the file); "
        "remove it"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--uvci-spec", "uvci\nevil: 1"),
        ("--test-command", "pytest\r\nafter_script: [curl evil]"),
        ("--test-stage", "test\x00"),
        ("--build-stage", "build\u2028evil: 1"),
        ("--extra", "x\ny"),
    ],
)
def test_option_values_with_newlines_are_refused(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    project = locked_project("pure")
    rc, err = run(capsys, "generate", str(project), option, value)
    assert rc == 2
    line = error_line(err, "generate")
    assert line.startswith(f"uvci generate: error: {option} {value!r}: holds a control character")
    assert not (project / ".gitlab" / "ci" / "uvci.yml").exists()


def test_unexpected_error_is_one_line_exit_3(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("https://bob:hunter2@host/x?token=abc\nsecond line")

    monkeypatch.setattr("uvci.commands.plan.plan_for", broken)
    project = str(locked_project("pure"))
    rc, err = run(capsys, "plan", project)
    assert rc == 3
    assert err.splitlines() == [
        "uvci plan: internal error: RuntimeError: https://bob:****@host/x?token=****; second "
        f"line; this is a bug in uvci {__version__}: please report it to the uvci issue tracker "
        "(the project's GitLab/GitHub issues) with this line (run it again with --debug for the "
        "traceback)"
    ]
    rc, err = run(capsys, "plan", project, "--debug")
    assert rc == 3
    assert err.startswith("Traceback (most recent call last):") and "hunter2" not in err
    assert err.splitlines()[-1].startswith("uvci plan: internal error: RuntimeError")
    rc, err = run(capsys, "--debug", "plan", project)
    assert rc == 3 and err.splitlines()[-1].startswith("uvci plan: internal error:")
