"""What the store's helpers (audit, retention) need from an open store, without importing
`app.store.db` (which owns them): the single writer, a read session and the planner
refresh. `Store` in app/store/db.py satisfies it. Also the space reclaim they share."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.store.writer import Writer


class StoreAccess(Protocol):
    @property
    def writer(self) -> Writer: ...

    def read_session(self) -> AbstractContextManager[Session]: ...

    def optimize(self, *, all_tables: bool = True, timeout: float = 300.0) -> list[str]: ...


def reclaim_space(store: StoreAccess) -> int:
    """Checkpoint the WAL and give free pages back (their bytes already overwritten)."""

    def job(conn: Any) -> int:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        conn.execute("PRAGMA incremental_vacuum").fetchall()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return free

    return int(store.writer.run_outside_transaction(job).result(300))
