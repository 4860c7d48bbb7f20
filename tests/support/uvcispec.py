"""A ``--uvci-spec`` pinned by hash for tests that generate a pipeline but never run its fill
(the host and the hash name no real wheel: a cell would refuse it at uv's hash check)."""

HASHED_SPEC = (
    "uvci @ https://gitlab.example.com/api/v4/projects/1/packages/generic/uvci/0.1.0/"
    "uvci-0.1.0-py3-none-any.whl#sha256=" + "0" * 64
)
