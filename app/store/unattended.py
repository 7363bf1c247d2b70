"""Turning automatic unlock on and off, and issuing the recovery key (see unlock.py).

    recovery = enable_auto_unlock(db_path, passphrase)   # a new recovery key, or None
    disable_auto_unlock(db_path)
    new_recovery_key(db_path, passphrase)                # replaces the previous one

`passphrase=None` uses VITRINE_STORE_PASSPHRASE or the auto-unlock file itself; a
recovery key is accepted wherever a passphrase is.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.store import unlock
from app.store.errors import StoreError
from app.store.keys import KeyHeader, read_header, resolve_key, write_header


def _header(db_path: Path) -> KeyHeader:
    header = read_header(db_path)
    if header is None or not db_path.exists():
        raise StoreError(f"no store at {db_path}")
    return header


def enable_auto_unlock(db_path: Path, passphrase: str | None) -> str | None:
    """Unlock this store automatically on this computer from now on. Returns a new
    recovery key to show once when the store had none yet, else None."""
    header = _header(db_path)
    if header.method != "scrypt":
        raise StoreError(
            "not needed: this store's key is in the OS keychain, which opens it without a "
            "passphrase"
        )
    key = resolve_key(db_path, passphrase, create=False)
    unlock.machine_id()  # a clear message before anything is written
    unlock.write_auto(db_path, key)
    return None if header.recovery else _set_recovery(db_path, key)


def disable_auto_unlock(db_path: Path) -> bool:
    """Ask for the passphrase at every start again; True if automatic unlock was on."""
    return unlock.remove_auto(db_path)


def new_recovery_key(db_path: Path, passphrase: str | None) -> str:
    """A new recovery key for the store (the previous one stops working)."""
    _header(db_path)
    return _set_recovery(db_path, resolve_key(db_path, passphrase, create=False))


def auto_unlock_state(db_path: Path) -> str:
    """One line: whether this store opens by itself on this computer."""
    header = read_header(db_path)
    if header is not None and header.method == "keyring":
        return "by the OS keychain"
    if not unlock.auto_path(db_path).exists():
        return "off (the passphrase is asked at every start)"
    try:
        unlock.read_auto(db_path)
    except StoreError as exc:
        return f"broken: {exc}"
    return "on (this computer only)"


def _set_recovery(db_path: Path, key: bytes) -> str:
    recovery = unlock.new_recovery_key()
    header = _header(db_path)
    write_header(
        db_path, dataclasses.replace(header, recovery=unlock.recovery_record(key, recovery))
    )
    return recovery
