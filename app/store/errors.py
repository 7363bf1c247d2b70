"""Errors of the local store: each message is one line meant for a person."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot do what was asked; `str(exc)` says why and what to do."""


class NeedPassphrase(StoreError):
    """No key is available without a passphrase (headless machine, or a passphrase store)."""


class WrongKey(StoreError):
    """The passphrase or key does not open this store."""


class StoreCorrupt(StoreError):
    """The file is damaged or is not a Vitrine store."""


class StoreTooNew(StoreError):
    """The file was written by a newer version of Vitrine."""


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: the last writes were not saved."""


class StoreClosed(StoreError):
    """The store was closed."""


def check_summary(result: str) -> str:
    """SQLite's integrity report (one problem a line, often hundreds) in one line for a
    person: its first problem and how many more."""
    lines = [ln.strip() for ln in str(result).splitlines() if ln.strip() and "***" not in ln]
    if not lines:
        return "integrity check failed"
    more = f"; and {len(lines) - 1} more problems" if len(lines) > 1 else ""
    return lines[0][:120] + more
