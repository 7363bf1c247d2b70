"""Raw SQLCipher connections and the SQLAlchemy engines built on them.

Every connection is keyed with the raw 256-bit key (`PRAGMA key = "x'...'"`, no KDF on
open), uses WAL, `secure_delete=ON` (deleted bytes are overwritten) and in-memory temp
storage. Reader connections are `query_only`: only the writer thread writes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool
from sqlcipher3 import dbapi2

log = logging.getLogger(__name__)

Role = Literal["reader", "writer", "admin"]
SQLITE_HEADER = b"SQLite format 3\x00"


def key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def raw_connect(path: Path, key: bytes | None, *, timeout: float = 30.0) -> Any:
    """A keyed sqlcipher3 connection in autocommit mode (transactions are explicit)."""
    conn = dbapi2.connect(str(path), check_same_thread=False, isolation_level=None, timeout=timeout)
    conn.execute("PRAGMA cipher_log_level = NONE")  # errors become exceptions, not stderr noise
    if key is not None:
        conn.execute(key_pragma(key))
    return conn


def init_new_database(conn: Any) -> None:
    """Settings that must precede the first table: incremental auto-vacuum and WAL."""
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("WAL mode not available here (journal_mode=%s)", mode)


def configure(conn: Any, role: Role) -> None:
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA busy_timeout = 30000")
    if role == "writer":
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")  # an acknowledged batch survives power loss
    elif role == "reader":
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA query_only = ON")
    else:  # admin: migrations (batch table rebuilds need foreign keys off)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA synchronous = FULL")


def make_engine(path: Path, key: bytes | None, role: Role, pool_size: int = 1) -> Engine:
    """An engine whose connections are keyed SQLCipher connections configured for `role`."""

    def creator() -> Any:
        conn = raw_connect(path, key)
        configure(conn, role)
        return conn

    engine = create_engine(
        "sqlite://",
        creator=creator,
        module=dbapi2,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0 if role != "reader" else 8,
        pool_timeout=60,
    )
    begin_sql = "BEGIN IMMEDIATE" if role in ("writer", "admin") else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:  # the driver runs in autocommit; we open transactions
        conn.exec_driver_sql(begin_sql)

    return engine


def is_full_error(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk, or the database's page limit, is full."""
    text = str(exc).lower()
    code = getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None)
    return code == 13 or "database or disk is full" in text or "no space left" in text
