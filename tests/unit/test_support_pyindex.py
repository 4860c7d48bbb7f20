"""The loopback index speaks PEP 503/691, counts requests and injects faults."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support.index_process import IndexProcess
from tests.support.index_requests import read_request_log
from tests.support.pyindex import JSON_TYPE, LoopbackIndex
from tests.support.universe import build_universe

REPO = Path(__file__).resolve().parents[2]
GAMMA = "gamma-1.1-py3-none-any.whl"


def get(url: str, accept: str = "") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_project_page_json(index: LoopbackIndex, universe_dir: Path) -> None:
    status, ctype, body = get(f"{index.url}/Gamma/", accept=JSON_TYPE)
    assert (status, ctype) == (200, JSON_TYPE)
    doc = json.loads(body)
    files = {f["filename"]: f for f in doc["files"]}
    assert set(files) == {"gamma-1.0-py3-none-any.whl", GAMMA, "gamma-1.1.tar.gz"}
    entry = files[GAMMA]
    data = (universe_dir / GAMMA).read_bytes()
    assert entry["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
    assert entry["size"] == len(data)
    assert entry["url"] == f"{index.base}/files/{GAMMA}"
    assert entry["upload-time"].endswith("Z") and entry["upload-time"].startswith("2024-01-01T")
    assert doc["versions"] == ["1.0", "1.1"]


def test_requires_python_and_core_metadata(index: LoopbackIndex) -> None:
    doc = json.loads(get(f"{index.url}/forky/", accept=JSON_TYPE)[2])
    by_name = {f["filename"]: f for f in doc["files"]}
    assert by_name["forky-2.0-py3-none-any.whl"]["requires-python"] == ">=3.12"
    assert by_name["forky-1.0-py3-none-any.whl"]["requires-python"] is None
    meta_entry = by_name["forky-2.1-py3-none-any.whl"]["core-metadata"]
    status, _, meta = get(f"{index.base}/files/forky-2.1-py3-none-any.whl.metadata")
    assert status == 200 and hashlib.sha256(meta).hexdigest() == meta_entry["sha256"]
    assert b"Requires-Dist: beta>=2" in meta


def test_html_pages(index: LoopbackIndex) -> None:
    status, ctype, body = get(f"{index.url}/forky/", accept="text/html")
    assert (status, ctype) == (200, "text/html")
    assert b'data-requires-python="&gt;=3.12"' in body and b"#sha256=" in body
    status, _, root = get(f"{index.url}/")
    assert status == 200 and b'href="/simple/srconly/"' in root
    assert get(f"{index.url}/no-such-project/")[0] == 404


def test_counts_requests_and_file_downloads(index: LoopbackIndex, universe_dir: Path) -> None:
    get(f"{index.url}/gamma/", accept=JSON_TYPE)
    for _ in range(2):
        assert get(f"{index.base}/files/{GAMMA}")[0] == 200
    get(f"{index.base}/files/{GAMMA}.metadata")
    assert index.file_requests() == {GAMMA: 2}
    assert index.requests[0].path == "/simple/gamma/"
    assert index.requests[1].bytes_sent == (universe_dir / GAMMA).stat().st_size
    index.reset()
    assert index.requests == [] and index.file_requests() == {}


def test_fail_then_recover(index: LoopbackIndex) -> None:
    index.fail(GAMMA, status=503, times=2)
    statuses = [get(f"{index.base}/files/{GAMMA}")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [r.status for r in index.requests] == [503, 503, 200]


def test_corrupt_keeps_size_breaks_hash(index: LoopbackIndex, universe_dir: Path) -> None:
    good = (universe_dir / GAMMA).read_bytes()
    index.corrupt(GAMMA)
    bad = get(f"{index.base}/files/{GAMMA}")[2]
    assert len(bad) == len(good) and bad != good
    with zipfile.ZipFile(io.BytesIO(bad)) as zf:  # still a valid archive: only the hash tells
        assert zf.testzip() is None
    assert get(f"{index.base}/files/{GAMMA}")[2] == bad  # until cleared
    index.clear_faults()
    assert get(f"{index.base}/files/{GAMMA}")[2] == good


def test_corrupt_a_number_of_times(index: LoopbackIndex, universe_dir: Path) -> None:
    good = (universe_dir / GAMMA).read_bytes()
    index.corrupt(GAMMA, times=2)
    bodies = [get(f"{index.base}/files/{GAMMA}")[2] for _ in range(3)]
    assert [body == good for body in bodies] == [False, False, True]


def test_bandwidth_throttle(tmp_path: Path) -> None:
    (tmp_path / "big-1.0-py3-none-any.whl").write_bytes(b"x" * 40_000)
    with LoopbackIndex(tmp_path, bandwidth=200_000) as slow:
        start = time.monotonic()
        assert len(get(f"{slow.base}/files/big-1.0-py3-none-any.whl")[2]) == 40_000
        assert time.monotonic() - start >= 0.18


def test_standalone_script_serves_and_logs(tmp_path: Path) -> None:
    build_universe(tmp_path / "dists")
    log = tmp_path / "requests.jsonl"
    script = REPO / "tests" / "support" / "pyindex.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "dists"), "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("URL http://127.0.0.1:")
        url = line.split()[1]
        assert get(f"{url}/gamma/", accept=JSON_TYPE)[0] == 200
        assert get(url.replace("/simple", f"/files/{GAMMA}"))[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    logged = read_request_log(log)
    assert [(r.method, r.path, r.status) for r in logged] == [
        ("GET", "/simple/gamma/", 200),
        ("GET", f"/files/{GAMMA}", 200),
    ]
    assert logged[1].filename == GAMMA and logged[1].bytes_sent > 0


@pytest.mark.parametrize("entry", ["-m", "script"])
def test_module_entry_point_help(entry: str) -> None:
    cmd = [sys.executable, "-m", "tests.support.pyindex", "--help"]
    if entry == "script":
        cmd = [sys.executable, str(REPO / "tests/support/pyindex.py"), "--help"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0 and "--port" in proc.stdout


def test_aborted_download_is_amended(tmp_path: Path) -> None:
    (tmp_path / "big-1.0-py3-none-any.whl").write_bytes(b"x" * 400_000)
    with LoopbackIndex(tmp_path, bandwidth=100_000) as slow:
        with urllib.request.urlopen(f"{slow.base}/files/big-1.0-py3-none-any.whl", timeout=10) as r:
            r.read(1000)
        deadline = time.monotonic() + 10
        while not slow.requests[0].aborted and time.monotonic() < deadline:
            time.sleep(0.05)
        (request,) = slow.requests
        assert request.aborted and 0 < request.bytes_sent < 400_000


def test_index_process_counts_through_its_log(tmp_path: Path, universe_dir: Path) -> None:
    with IndexProcess(universe_dir, tmp_path / "log.jsonl") as child:
        assert child.url.startswith("http://127.0.0.1:") and child.url.endswith("/simple")
        assert get(f"{child.base}/files/{GAMMA}")[0] == 200
        assert child.file_requests() == {GAMMA: 1}
        child.reset()
        assert child.requests == []
