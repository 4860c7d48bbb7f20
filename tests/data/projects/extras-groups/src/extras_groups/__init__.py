"""uvci test project: extras and groups."""
