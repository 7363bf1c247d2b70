"""`python main.py store restore BACKUP [--yes]`: put a backup back in place of the store
(the same checks and steps as the desktop's Settings > Backup; see app/store/restore.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import CliError
from app.paths import InstanceLock

STOP_FIRST = (
    "stop the desktop app and 'python main.py serve' first: the store must not be in use "
    "while it is replaced"
)


def add_subcommand(sub: Any) -> None:
    rs = sub.add_parser("restore", help="replace the store by one of its backups")
    rs.add_argument("backup", type=Path, help="the backup file (e.g. from the backups folder)")
    rs.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _key(path: Path, backup: Path, passphrase: str | None) -> bytes:
    from app.store.keys import resolve_key

    # the store's own key; a machine without the store takes the key the backup names
    if path.exists() and path.stat().st_size > 0:
        return resolve_key(path, passphrase, create=False)
    return resolve_key(backup, passphrase, create=False)


def restore(
    args: argparse.Namespace, with_passphrase: Callable[[Callable[[str | None], Any]], Any]
) -> int:
    from app.store.db import default_path

    path: Path = args.db or default_path()
    backup: Path = args.backup
    if not backup.exists():
        raise CliError(f"no backup file at {backup}")
    # the lock the desktop and `serve` hold on the store's data directory: held here
    # too, so that neither starts while the store is replaced
    lock = InstanceLock(path.parent)
    if not lock.acquire():
        raise CliError(f"Vitrine is running with this store ({path.parent}): {STOP_FIRST}")
    try:
        return _restore(path, backup, args.yes, with_passphrase)
    finally:
        lock.release()


def _restore(
    path: Path,
    backup: Path,
    yes: bool,
    with_passphrase: Callable[[Callable[[str | None], Any]], Any],
) -> int:
    from app.store.restore import RestoreError, restore_backup, verify_backup

    key: bytes = with_passphrase(lambda pp: _key(path, backup, pp))
    try:
        revision = verify_backup(backup, key)
    except RestoreError as exc:
        raise CliError(str(exc)) from None
    if not yes:
        if not sys.stdin.isatty():
            raise CliError("add --yes to restore without a terminal to confirm on")
        print(
            f"This replaces the store {path} by the backup {backup.name} (schema {revision}).\n"
            "Everything recorded since that backup is replaced; the current store is backed "
            f"up first, to {path.parent / 'backups'}.\n{STOP_FIRST[0].upper() + STOP_FIRST[1:]}."
        )
        if input("Restore now? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing was changed")
            return 1
    try:
        res = restore_backup(path, backup, key)
    except RestoreError as exc:
        raise CliError(str(exc)) from None
    print(f"restored {path} from {backup.name} (schema {res.revision})")
    if res.previous_saved_to is not None:
        print(f"the store it replaced was saved to {res.previous_saved_to}")
    return 0
