"""The loopback index reports its own errors, not a client hanging up (which would otherwise
land as a traceback in whichever test captures stderr at that moment)."""

from __future__ import annotations

import pytest

from tests.support.pyindex import _Server


def _report(server: _Server, exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:
        server.handle_error(None, ("127.0.0.1", 1))


def test_a_client_hanging_up_prints_nothing_but_a_real_error_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = _Server(("127.0.0.1", 0), object)  # type: ignore[arg-type]
    try:
        _report(server, ConnectionResetError(104, "Connection reset by peer"))
        _report(server, BrokenPipeError(32, "Broken pipe"))
        assert capsys.readouterr().err == ""
        _report(server, ValueError("a bug in the handler"))
        assert "ValueError: a bug in the handler" in capsys.readouterr().err
    finally:
        server.server_close()
