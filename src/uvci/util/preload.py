"""Import modules in a background thread, while the main thread waits on a subprocess.

`uvci run` loads rich (its display) this way while uv checks the lock: the import costs no
wall time then. The main thread imports the same modules as usual when it needs them (Python's
per-module import lock makes it wait for, or reuse, the background import); a module that fails
to import in the background fails again, with its real error, in the main thread.
"""

from __future__ import annotations

import contextlib
import importlib
import threading


def preload(*modules: str) -> threading.Thread:
    """Start importing ``modules`` (in order) in a thread of their own; returns the thread."""
    thread = threading.Thread(target=_import_all, args=(modules,), name="uvci-preload")
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):  # the main thread's own import reports it
            importlib.import_module(name)
