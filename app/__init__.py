"""Vitrine: in-store retail intelligence."""

__version__ = "0.1.0"
