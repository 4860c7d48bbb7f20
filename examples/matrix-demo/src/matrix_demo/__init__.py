"""A tiny package for uvci's example: averages with numpy, fetched with httpx."""

import numpy as np


def mean(values: list[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=float)))
