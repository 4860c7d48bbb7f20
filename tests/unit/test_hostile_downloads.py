"""Issue 19, class 5: every network or local read of a locked file is bounded.

A body is read up to uv.lock's ``size`` and no further (with or without a ``Content-Length``);
a ``file://`` URL under ``--frozen`` is read as uv reads one, a regular file, bounded; a body
cut off for slowness never leaves its connection to the retry (the default 3 retries).
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.faulty_index import FaultyIndex
from uvci.cli import main

GAMMA = "gamma-1.1-py3-none-any.whl"
ENDLESS = 64 * 1024 * 1024  # what the hostile server would send: 64 MB for a 990-byte wheel


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(list(args))
    return rc, capsys.readouterr().err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("uvci prefetch: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


class _Endless(http.server.BaseHTTPRequestHandler):
    sent: list[int]
    announce: bool

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        if self.announce:
            self.send_header("Content-Length", str(ENDLESS))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk, total = b"\0" * 65536, 0
        try:
            while total < ENDLESS:
                self.wfile.write(chunk)
                total += len(chunk)
        except OSError:
            pass
        self.sent.append(total)


@pytest.fixture
def endless() -> Iterator[tuple[str, list[int], type[_Endless]]]:
    sent: list[int] = []
    handler = type("Handler", (_Endless,), {"sent": sent, "announce": False})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", sent, handler
    server.shutdown()
    server.server_close()


def point_gamma_at(project: Path, url: str) -> None:
    lock = project / "uv.lock"
    text = lock.read_text()
    lock.write_text(re.sub(r'url = "[^"]*/' + re.escape(GAMMA) + '"', f'url = "{url}"', text))


@pytest.mark.parametrize("announce", [False, True])
def test_a_body_is_read_no_further_than_the_locked_size(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    endless: tuple[str, list[int], type[_Endless]],
    announce: bool,
) -> None:
    base, sent, handler = endless
    handler.announce = announce
    project = locked_project("pure")
    point_gamma_at(project, f"{base}/files/{GAMMA}")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert line.startswith(f"uvci prefetch: error: {GAMMA}: download failed after 1 attempts")
    assert "990 bytes uv.lock records" in line
    deadline = time.monotonic() + 30
    while not sent and time.monotonic() < deadline:  # the server notices the hang-up
        time.sleep(0.05)
    assert sent and sent[0] < 16 * 1024 * 1024  # the client hung up long before 64 MB
    wheelhouse = project / ".uvci" / "wheels"
    assert not [p for p in wheelhouse.iterdir() if GAMMA in p.name]  # no temp file left


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_file_url_is_read_as_a_regular_file_only(
    locked_project: LockedProject,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    kind: str,
) -> None:
    target = str(tmp_path / GAMMA)
    if kind == "fifo":
        os.mkfifo(target)
    else:
        os.symlink("/dev/zero", target)  # uv follows a link to a file: not to a device
    project = locked_project("pure")
    point_gamma_at(project, f"file://{target}")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    line = error_line(err)
    assert f"{target}: is not a regular file (named in uv.lock)" in line


def test_a_file_url_is_read_no_further_than_the_locked_size(
    locked_project: LockedProject, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / GAMMA
    with big.open("wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MB of zeros for a 990-byte wheel
    project = locked_project("pure")
    point_gamma_at(project, f"file://{big}")
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12", "--frozen")
    assert rc == 2
    assert "more than the 990 bytes uv.lock records" in error_line(err)


def test_a_slow_body_never_hands_its_connection_to_the_retry(
    locked_project: LockedProject,
    faulty: FaultyIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = locked_project("pure", index=faulty)
    faulty.trickle(GAMMA, interval=0.2)  # a byte every 0.2 s: ~200 s for the wheel
    monkeypatch.setenv("UV_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("UVCI_HTTP_MIN_RATE", "100000")  # deadline ~1.01 s per attempt
    monkeypatch.setenv("UVCI_HTTP_BACKOFF", "0")
    monkeypatch.delenv("UV_HTTP_RETRIES", raising=False)  # uv's default: 3 retries
    rc, err = run(capsys, "prefetch", str(project), "--python", "3.12")
    assert rc == 2
    line = error_line(err)
    assert line.startswith(f"uvci prefetch: error: {GAMMA}: download failed after 4 attempts")
    assert "below UVCI_HTTP_MIN_RATE=100000 bytes/s" in line
    retries = [ln for ln in err.splitlines() if "retrying in" in ln]
    assert len(retries) == 3 and all("below UVCI_HTTP_MIN_RATE" in ln for ln in retries), err
