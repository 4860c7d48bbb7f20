"""uvci test project: sdist-only dependencies."""
