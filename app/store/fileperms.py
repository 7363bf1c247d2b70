"""Private files: the store, its WAL/SHM, its key header, the auto-unlock file and backups
are readable by their owner only (0600), in directories only the owner can enter (0700).

SQLite creates the -wal and -shm files with the database file's own permissions, so a
database file created 0600 keeps them private too. On Windows these calls do nothing (the
per-user data directory's ACL already restricts it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from app.paths import private_dir as private_dir

FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
POSIX = not sys.platform.startswith("win")


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 when missing, else narrow it to 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    narrow(path)
    return path


def narrow(path: Path) -> None:
    """Mode 0600 for an existing file (nothing when it does not exist)."""
    if not POSIX:
        return
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if path.stat().st_mode & 0o777 != FILE_MODE:
            path.chmod(FILE_MODE)


def private_database(db_path: Path) -> None:
    """The database file (created 0600 when missing) and its side files, 0600."""
    if not db_path.exists():
        private_file(db_path)
    for p in (db_path, *(db_path.with_name(db_path.name + s) for s in SQLITE_SIDE_FILES)):
        narrow(p)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temporary file, fsync, rename), mode 0600."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
