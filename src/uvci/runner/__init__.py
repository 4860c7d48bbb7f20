"""`uvci run`: the project's test matrix on this machine, with the plan and wheelhouse CI uses.

Modules: ``interpreters`` (find a CPython per cell), ``envs`` (cell environments that are never
trusted half-built), ``testcmd`` (the test command line), ``builds`` (the project's wheels),
``cells`` (one cell's pipeline), ``junit`` (per-cell and merged reports), ``reports`` (the JUnit
files of a run), ``display`` (live rows, plain lines, summary table), ``session`` (fetch once,
build once, cells in parallel, Ctrl-C).
"""
