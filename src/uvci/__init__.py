"""uvci: fast, correct GitLab CI for uv projects tested across a Python matrix."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uvci")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
