"""YAML I/O for GitLab CI files: round-trip load/edit/write, a fast loader, GitLab's quirks."""
