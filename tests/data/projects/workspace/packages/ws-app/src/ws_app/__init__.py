"""Workspace member ws-app."""
import ws_lib  # noqa: F401
