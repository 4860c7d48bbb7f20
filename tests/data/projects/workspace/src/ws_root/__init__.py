"""Workspace root."""
