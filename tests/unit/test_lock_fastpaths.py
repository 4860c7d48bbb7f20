"""The lock reader's and the walk's shortcuts (issue 11, plan speed) give what the long way
gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from packaging.markers import Marker

from uvci.model.lock import _check_url, _last_segment, load_lock
from uvci.planning import make_plan

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


MANY = Path(__file__).parents[2] / "bench" / "projects" / "many"


def test_each_marker_text_is_one_marker_evaluated_once_per_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = load_lock(MANY / "uv.lock")
    deps = [d for p in lock.packages for d in p.dependencies if d.marker is not None]
    assert len({id(d.marker) for d in deps}) == len({str(d.marker) for d in deps}) < len(deps)
    evaluated: list[str] = []
    evaluate = Marker.evaluate

    def counting(self: Marker, *args: Any, **kwargs: Any) -> bool:
        evaluated.append(str(self))
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(Marker, "evaluate", counting)
    plan = make_plan(MANY, python=["3.12"], check_lock=False)
    assert plan.cells[0].packages and evaluated
    assert len(evaluated) == len(set(evaluated))  # one project, no extras: one environment
