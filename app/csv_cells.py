"""Spreadsheet-safe text cells (OWASP "CSV injection"): one rule for every CSV export,
the store's reports and HQ's."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` a spreadsheet shows as text and never runs: starting (after spaces) with
    = + - @ tab or CR, it gets a leading apostrophe."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text
