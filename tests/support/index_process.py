"""The standalone loopback index (``pyindex.py``) as a child process, counted through its log."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType

from tests.support.index_requests import Request, read_request_log


class IndexProcess:
    """The standalone index as a child process, counted through its request log.

    An in-process ``LoopbackIndex`` already serves other processes (gitlab-ci-local jobs reach
    127.0.0.1 like anything else); use this when the index must outlive or sit outside pytest.
    """

    def __init__(
        self,
        directory: Path,
        log_path: Path,
        port: int = 0,
        bandwidth: int | None = None,
        python: str = sys.executable,
    ) -> None:
        self.directory, self.log_path = Path(directory), Path(log_path)
        self.cmd = [
            python,
            str(Path(__file__).resolve().with_name("pyindex.py")),
            str(directory),
            "--log",
            str(log_path),
        ]
        self.cmd += ["--port", str(port)] + (["--bandwidth", str(bandwidth)] if bandwidth else [])
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return self.url.removesuffix("/simple")

    def start(self) -> IndexProcess:
        self._proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line.startswith("URL "):
            self.stop()
            raise RuntimeError(f"index process did not start: {self.cmd} printed {line!r}")
        self.url = line.split()[1]
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None

    def __enter__(self) -> IndexProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def requests(self) -> list[Request]:
        return read_request_log(self.log_path)

    def file_requests(self) -> Counter[str]:
        return Counter(r.filename for r in self.requests if r.method == "GET" and r.filename)

    def reset(self) -> None:
        self.log_path.write_text("", encoding="utf-8")
