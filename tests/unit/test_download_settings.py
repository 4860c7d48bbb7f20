"""The download settings uvci reads from the environment, as uv names them."""

from __future__ import annotations

from pathlib import Path

import pytest

from uvci.errors import FatalError
from uvci.wheelhouse.credentials import Auth
from uvci.wheelhouse.download import Fetcher


def fetcher(tmp_path: Path, **env: str) -> Fetcher:
    return Fetcher(Auth(), tmp_path, env)


def test_defaults_and_values_as_uv_reads_them(tmp_path: Path) -> None:
    default = fetcher(tmp_path)
    assert (default.retries, default.timeout, default.backoff) == (3, 30, 0.5)
    given = fetcher(tmp_path, UV_HTTP_RETRIES="0", UV_HTTP_TIMEOUT="2.5", UVCI_HTTP_BACKOFF="0")
    assert (given.retries, given.timeout, given.backoff) == (0, 2.5, 0)
    assert fetcher(tmp_path, UV_REQUEST_TIMEOUT="7").timeout == 7  # uv's older name


BAD = [
    ("UV_HTTP_RETRIES", "-1", "must be a whole number of at least 0"),
    ("UV_HTTP_RETRIES", "2.5", "not a whole number"),
    ("UV_HTTP_RETRIES", "lots", "not a whole number"),
    ("UV_HTTP_TIMEOUT", "-3", "must be a number of at least 0"),
    ("UV_HTTP_TIMEOUT", "nan", "must be a number of at least 0"),
    ("UVCI_HTTP_BACKOFF", "soon", "not a number"),
]


@pytest.mark.parametrize(("name", "value", "why"), BAD)
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, name: str, value: str, why: str
) -> None:
    with pytest.raises(FatalError) as info:
        fetcher(tmp_path, **{name: value})
    assert str(info.value) == f"{name}={value!r}: {why}; fix or unset it"
