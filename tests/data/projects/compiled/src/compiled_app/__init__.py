"""uvci test project: platform wheels."""

import fastcalc


def built_for() -> list[str]:
    return list(fastcalc.BUILT_FOR)
