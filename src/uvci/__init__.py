"""uvci: fast, correct GitLab CI for uv projects tested across a Python matrix."""

__version__: str  # read from the installed metadata on first use (importlib.metadata is slow)


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'uvci' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("uvci")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        found = "0.0.0"
    globals()["__version__"] = found
    return found
