"""The project and its lock as uvci models them, and the plan: pure computation, no I/O layer."""
