"""The lock reader's shortcuts (issue 11, plan speed) give what the long way gives."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from uvci.model.lock import _check_url, _last_segment

URLS = [
    "https://files.example/packages/ab/cd/pkg-1.0-py3-none-any.whl",
    "https://files.example:8443/p/pkg%2B1-1.0.tar.gz",
    "https://files.example/p/pkg-1.0.whl?token=x#sha256=00",
    "https://files.example",
    "https://files.example/",
    "file:///srv/wheels/pkg-1.0-py3-none-any.whl",
    " https://files.example/p/pkg-1.0.whl",
    "https://files.example/p/pkg-\t1.0.whl",
    "../wheels/pkg-1.0-py3-none-any.whl",
    "C:/wheels/pkg-1.0.whl",
]


@pytest.mark.parametrize("url", URLS)
def test_the_file_name_is_the_last_segment_of_the_parsed_path(url: str) -> None:
    assert _last_segment(url) == unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def test_a_bad_port_fails_on_every_url_of_its_origin() -> None:
    _check_url("https://files.example:8443/a.whl")  # a good one first: its origin is cached
    for url in ("https://files.example:99999/a.whl", "https://files.example:99999/b.whl"):
        with pytest.raises(ValueError, match=r"URL https://files\.example:99999/.\.whl: "):
            _check_url(url)
