"""Small utilities every layer may use: atomic files, TOML, subprocesses, progress, redaction."""
