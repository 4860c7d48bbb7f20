"""uvci test project: pure python."""

import alpha


def answer() -> int:
    return 42 if alpha.__version__ else 0
