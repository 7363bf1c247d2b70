"""Restoring the store from one of its encrypted backups (desktop and `store restore`).

Nothing is lost and no half-restored store is ever left:

1. the chosen backup is checked first, read-only: it opens with the store's key (its
   copied key header says so before a page is read), `PRAGMA integrity_check` and
   SQLCipher's `cipher_integrity_check` pass, and its schema is one this version knows;
2. it is copied (SQLite backup API, same key) to a staging file beside the store and
   migrated there if it is older;
3. the current store is backed up (`backups/...-before-restore`);
4. the staging file replaces the store in one `os.replace`; leftover -wal/-shm of the old
   file are removed first (the old store's pages must never be replayed into the new);
5. config.toml beside the store (which wins over the store's copy at start) is rewritten
   from the restored settings, the old file kept beside the pre-restore backup.

The store must be closed (no engine, no desktop, no `serve`) while `restore_backup` runs.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from app import settings
from app.config import ConfigError, parse_config
from app.store import migrate
from app.store.backup import backup_file, backups_dir, default_backup_path
from app.store.connect import SQLITE_HEADER, raw_connect
from app.store.errors import StoreCorrupt, StoreError, StoreTooNew, WrongKey, check_summary
from app.store.fileperms import narrow, private_file
from app.store.keys import copy_header, header_path, key_check, read_header
from app.store.settings_store import SETTING_KEY

log = logging.getLogger(__name__)

STAGING_SUFFIX = ".restoring"


class RestoreError(StoreError):
    """The backup cannot be restored; `str(exc)` says why in one line. The store is as it was."""


@dataclass(frozen=True)
class BackupEntry:
    """A backup file in the store's backups folder."""

    path: Path
    created: float  # epoch seconds (file time)
    size: int  # bytes


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    revision: str  # the schema of the store now (after migrating an older backup)
    backup_revision: str  # the schema the backup had
    previous_saved_to: Path | None  # the pre-restore backup of the store it replaced
    settings_file: Path | None = None  # config.toml, rewritten from the restored settings


def list_backups(db_path: Path) -> list[BackupEntry]:
    """The store's backups, newest first."""
    d = backups_dir(db_path)
    if not d.is_dir():
        return []
    found = []
    for p in d.glob(f"{db_path.stem}-*{db_path.suffix}"):
        try:
            st = p.stat()
        except OSError:
            continue
        found.append(BackupEntry(p, st.st_mtime, st.st_size))
    return sorted(found, key=lambda e: e.created, reverse=True)


def _disk_message(exc: Exception, what: str) -> str:
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if full or "full" in str(exc).lower():
        return f"the disk is full: {what} (nothing was changed; free some space and try again)"
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{what} ({why}); nothing was changed"


def verify_backup(backup: Path, key: bytes) -> str:
    """Check a backup read-only; returns its schema revision or raises RestoreError."""
    if not backup.exists():
        raise RestoreError(f"no backup file at {backup}")
    if not backup.is_file():
        raise RestoreError(f"{backup} is a folder, not a backup file")
    size = backup.stat().st_size
    with open(backup, "rb") as fh:
        head = fh.read(16)
    if size == 0 or head == SQLITE_HEADER or size % 1024:
        raise RestoreError(f"{backup.name} is not a Vitrine backup (not an encrypted store)")
    header = read_header(backup) if header_path(backup).exists() else None
    if header is not None and not hmac.compare_digest(key_check(key), header.check):
        raise RestoreError(
            f"{backup.name} was made with another key (another store, or before the "
            "passphrase changed): it cannot be opened with this store's key"
        )
    conn = raw_connect(backup, key)
    try:
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except Exception:
            if header is None:
                raise RestoreError(
                    f"{backup.name} is not a backup of this store (it does not open with this "
                    "store's key) or it is damaged"
                ) from None
            raise RestoreError(f"{backup.name} is damaged (its pages cannot be read)") from None
        return _check_contents(conn, backup.name, tables)
    finally:
        conn.close()


def _check_contents(conn: object, name: str, tables: set[str]) -> str:
    execute = conn.execute  # type: ignore[attr-defined]
    if "alembic_version" not in tables:
        raise RestoreError(f"{name} is not a Vitrine backup (it has no schema version)")
    try:
        ok = str(execute("PRAGMA integrity_check").fetchone()[0])
        cipher = [str(r[0]) for r in execute("PRAGMA cipher_integrity_check")]
        row = execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception as exc:
        raise RestoreError(f"{name} is damaged ({exc})") from None
    if ok != "ok":
        raise RestoreError(f"{name} is damaged (integrity check: {check_summary(ok)})")
    if cipher:
        raise RestoreError(f"{name} is damaged (encryption check: {cipher[0]})")
    if row is None:
        raise RestoreError(f"{name} is not a Vitrine backup (its schema version is empty)")
    revision = str(row[0])
    try:
        migrate.check_known(revision)
    except StoreTooNew:
        raise RestoreError(
            f"{name} was made by a newer version of Vitrine (schema {revision}): update "
            "Vitrine to restore it"
        ) from None
    return revision


def _stage(backup: Path, staging: Path, key: bytes) -> str:
    """Copy the backup to `staging` (same key) and migrate it to this version's schema."""
    from app.store.db import prepare_database

    _remove(staging)
    private_file(staging)
    src, dst = raw_connect(backup, key), raw_connect(staging, key)
    try:
        src.backup(dst, pages=1024)
    finally:
        dst.close()
        src.close()
    narrow(staging)
    return prepare_database(staging, key, create=False, backup=False)


def _save_current(db_path: Path, key: bytes) -> Path | None:
    """Back up the store about to be replaced; a store too damaged for SQLite is kept
    byte for byte instead."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    dest = default_backup_path(db_path, "before-restore")
    try:
        return backup_file(db_path, key, dest)
    except Exception as exc:
        if isinstance(exc, OSError) or "full" in str(exc).lower():
            raise
        log.warning("backup API failed on the current store (%s): copying its files", exc)
    for suffix in ("", "-wal"):
        src = Path(str(db_path) + suffix)
        if src.exists():
            private_file(Path(str(dest) + suffix))
            shutil.copyfile(src, Path(str(dest) + suffix))
    copy_header(db_path, dest)
    return dest


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def restore_backup(db_path: Path, backup: Path, key: bytes) -> RestoreResult:
    """Replace the (closed) store at `db_path` by `backup`; RestoreError if it cannot be
    done, the store then unchanged. The store's own key header is kept (same key)."""
    backup = backup.resolve()
    if backup == db_path.resolve():
        raise RestoreError("that is the store itself, not a backup of it")
    backup_rev = verify_backup(backup, key)
    staging = db_path.with_name(db_path.name + STAGING_SUFFIX)
    try:
        revision = _stage(backup, staging, key)
        previous = _save_current(db_path, key)
    except (WrongKey, StoreCorrupt) as exc:
        _remove(staging)
        raise RestoreError(f"the current store could not be backed up first: {exc}") from None
    except Exception as exc:
        _remove(staging)
        raise RestoreError(_disk_message(exc, "the restore could not be written")) from None
    except BaseException:
        _remove(staging)
        raise
    for suffix in ("-wal", "-shm", "-journal"):  # the old file's, never to be replayed
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(staging, db_path)
    _fsync_dir(db_path.parent)
    if read_header(db_path) is None:  # restoring onto a machine without the store
        copy_header(backup, db_path)
    log.info("store %s restored from %s (saved before: %s)", db_path, backup, previous)
    config_file = mirror_settings(db_path, key, previous)
    return RestoreResult(backup, revision, backup_rev, previous, config_file)


def mirror_settings(db_path: Path, key: bytes, previous: Path | None) -> Path | None:
    """Make config.toml beside the store say what the restored store's settings say (the
    file wins at start); the replaced file is kept beside `previous`. None: no such file
    or no settings in the backup."""
    path = settings.default_path(db_path.parent)
    if not path.is_file():
        return None
    conn = raw_connect(db_path, key)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (SETTING_KEY,)).fetchone()
    finally:
        conn.close()
    if row is None or not row[0]:
        return None
    try:
        cfg = parse_config(json.loads(row[0]), "restored settings")
    except (ConfigError, ValueError) as exc:
        log.warning("the restored settings cannot be used (%s): config.toml kept", exc)
        return None
    if previous is not None:
        kept = previous.with_suffix(".toml")
        private_file(kept)
        shutil.copyfile(path, kept)
    return settings.write_file(cfg, path)


def describe(entry: BackupEntry) -> str:
    """ "2026-12-06 14:03 · 12.4 MB" for lists."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
    return f"{when} · {entry.size / 1e6:.1f} MB"
