"""Errors shared by every layer (bottom layer: imports nothing from app)."""

from __future__ import annotations


class CliError(Exception):
    """A problem to report to the user as one line (the command line prints `error: ...`
    and exits with code 2). Raised by commands and by the desktop's start-up checks."""
