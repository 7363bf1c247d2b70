"""Encrypted backup copies of the store (SQLite backup API on keyed connections).

A backup has the same key as the store: its key header is copied beside it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.store.connect import raw_connect
from app.store.fileperms import narrow, private_dir, private_file
from app.store.keys import copy_header, header_path

log = logging.getLogger(__name__)

KEEP_BACKUPS = 5


def backups_dir(db_path: Path) -> Path:
    return db_path.parent / "backups"


def default_backup_path(db_path: Path, reason: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return backups_dir(db_path) / f"{db_path.stem}-{stamp}-{reason}{db_path.suffix}"


Progress = Callable[[int, int], None]  # (pages done, pages total)


def copy_database(
    src_conn: Any, db_path: Path, dest: Path, key: bytes | None, progress: Progress | None = None
) -> Path:
    """Copy the open database `src_conn` (keyed) to `dest`, encrypted with the same key."""
    if dest.parent == backups_dir(db_path) or not dest.parent.exists():
        private_dir(dest.parent)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    private_file(tmp)  # 0600 before SQLite writes a byte
    dst = raw_connect(tmp, key)

    def step(status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    try:
        src_conn.backup(dst, pages=1024, progress=step)
    except BaseException:
        dst.close()
        tmp.unlink(missing_ok=True)
        raise
    dst.close()
    narrow(tmp)
    os.replace(tmp, dest)
    copy_header(db_path, dest)
    log.info("store backed up to %s", dest)
    return dest


def backup_file(
    db_path: Path, key: bytes | None, dest: Path | None = None, reason: str = "manual"
) -> Path:
    """Back up a store that is not open in this process (e.g. before migrating it)."""
    dest = dest or default_backup_path(db_path, reason)
    src = raw_connect(db_path, key)
    try:
        return copy_database(src, db_path, dest, key)
    finally:
        src.close()


def prune_backups(db_path: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Delete all but the newest `keep` backups of this store; returns what was removed."""
    d = backups_dir(db_path)
    if not d.is_dir():
        return []
    found = sorted(d.glob(f"{db_path.stem}-*{db_path.suffix}"), key=lambda p: p.stat().st_mtime)
    removed = found[:-keep] if keep > 0 else found
    for p in removed:
        p.unlink(missing_ok=True)
        header_path(p).unlink(missing_ok=True)
    return removed
