"""Background imports (`uvci run` loads rich while uv checks the lock)."""

from __future__ import annotations

import subprocess
import sys


def test_a_preloaded_module_is_imported_once_the_thread_ends() -> None:
    code = (
        "import sys; from uvci.util.preload import preload\n"
        "assert 'xml.dom.minidom' not in sys.modules\n"
        "preload('xml.dom.minidom').join()\n"
        "print('xml.dom.minidom' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_a_module_that_fails_in_the_background_fails_in_the_main_thread_only() -> None:
    code = (
        "from uvci.util.preload import preload\n"
        "preload('no_such_module_anywhere').join()\n"
        "import no_such_module_anywhere\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.count("ModuleNotFoundError") == 1  # the main thread's, not the thread's
