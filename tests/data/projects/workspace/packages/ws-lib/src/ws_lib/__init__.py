"""Workspace member ws-lib."""
