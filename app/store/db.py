"""Opening the encrypted store: key, checks, backup + migration, writer and readers.

    store = open_store()                      # data_dir()/vitrine.db, key from keychain/env
    store.attach(bus)                         # vision events -> writer
    store.writer.submit(lambda s: s.add(Product(...))).result()
    with store.read_session() as s: ...
    store.close()

Opening never modifies a file it cannot use: a wrong key, a file from a newer Vitrine, or
a damaged file raise a `StoreError` with a one-line message before anything is written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.events import Alert, EventBus
from app.paths import data_dir
from app.store import migrate
from app.store.backup import (
    Progress,
    backup_file,
    copy_database,
    default_backup_path,
    prune_backups,
)
from app.store.connect import SQLITE_HEADER, init_new_database, make_engine, raw_connect
from app.store.errors import StoreCorrupt, StoreError, StoreFull, check_summary
from app.store.fileperms import private_database, private_dir
from app.store.ingest import VISION_EVENT_TYPES, IngestOptions
from app.store.keys import resolve_key
from app.store.retention import RetentionScheduler
from app.store.writer import Writer, WriterOptions

if TYPE_CHECKING:
    from app.config import RetentionConfig

log = logging.getLogger(__name__)

DB_NAME = "vitrine.db"
QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024  # quick_check at open below this size
# PRAGMA optimize masks: every table whose statistics are missing or stale (daily), or
# only the tables this connection used (at close); bit 0x1 lists instead of analysing
OPTIMIZE_ALL, OPTIMIZE_USED, OPTIMIZE_DRY = 0x10002, 0xFFFE, 0x1


def default_path() -> Path:
    return data_dir() / DB_NAME


def _exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _check_plaintext(path: Path, encrypted: bool) -> None:
    if not encrypted or not _exists(path):
        return
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head == SQLITE_HEADER:
        raise StoreCorrupt(f"{path} is an unencrypted SQLite file, not a Vitrine store")


def _probe(path: Path, key: bytes | None) -> str | None:
    """Read-only checks of an existing file; returns its schema revision (None: empty)."""
    _check_plaintext(path, key is not None)
    conn = raw_connect(path, key)
    try:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception as exc:
            # the key check in the header passed, so the key is right: the file is damaged
            raise StoreCorrupt(
                f"the store {path} is damaged or not a Vitrine store ({exc}); restore a backup "
                "from the backups folder (nothing was changed)"
            ) from None
        try:
            if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
                res = conn.execute("PRAGMA quick_check").fetchone()[0]
                if res != "ok":
                    raise StoreCorrupt(
                        f"the store {path} is damaged ({check_summary(res)}); restore a backup"
                    )
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                if tables:
                    raise StoreCorrupt(f"{path} is not a Vitrine store (no schema version)")
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except StoreCorrupt:
            raise
        except Exception as exc:
            raise StoreCorrupt(f"the store {path} is damaged ({exc}); restore a backup") from None
        return str(row[0]) if row else None
    finally:
        conn.close()


def read_revision(path: Path, key: bytes | None) -> str | None:
    """The schema revision of an existing store file, checking it (read-only)."""
    if not _exists(path):
        return None
    return _probe(path, key)


def prepare_database(path: Path, key: bytes | None, *, create: bool, backup: bool = True) -> str:
    """Check the file and migrate it to head (backing it up first); returns the revision."""
    exists = _exists(path)
    if not exists and not create:
        raise StoreError(f"no store at {path}")
    rev = _probe(path, key) if exists else None
    migrate.check_known(rev)
    head = migrate.head_revision()
    if rev == head:
        return head
    if exists and backup:
        dest = backup_file(path, key, default_backup_path(path, f"before-{head}"))
        prune_backups(path)
        log.info("backed up %s to %s before migrating %s -> %s", path, dest, rev, head)
    if not exists:
        conn = raw_connect(path, key)
        try:
            init_new_database(conn)
        finally:
            conn.close()
    engine = make_engine(path, key, "admin")
    try:
        with engine.connect() as conn:
            migrate.upgrade(conn, head)
    finally:
        engine.dispose()
    return head


class Store:
    """An open store: `writer` (the single write thread) and `read_session()`."""

    def __init__(
        self,
        path: Path,
        key: bytes | None,
        *,
        writer_options: WriterOptions | None = None,
        ingest_options: IngestOptions | None = None,
    ) -> None:
        self.path = path
        self.encrypted = key is not None
        self._key = key
        self._read_engine: Engine = make_engine(path, key, "reader", pool_size=4)
        self._write_engine: Engine = make_engine(path, key, "writer")
        self.writer = Writer(self._write_engine, writer_options, ingest_options)
        self._unsubscribe: list[Callable[[], None]] = []
        self._retention: RetentionScheduler | None = None
        self._lock = threading.Lock()
        self.writer.start()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only Session on its own connection (runs alongside the writer)."""
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session  # close() ends the read transaction; loaded objects stay usable

    def attach(self, bus: EventBus) -> None:
        """Persist the bus's vision events through the writer."""
        self._unsubscribe.append(bus.subscribe(self._on_event, *VISION_EVENT_TYPES))
        last = [0.0]

        def on_full(err: StoreFull) -> None:  # tell the UI, at most once a minute
            now = time.monotonic()
            if now - last[0] >= 60.0:
                last[0] = now
                bus.publish(Alert(kind="disk_full", message=str(err)))

        self.writer.on_full = on_full

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Alert) and event.kind == "disk_full":
            return  # cannot be saved anyway; the UI shows it
        if not self.writer.closed:
            self.writer.ingest(event)

    @property
    def key(self) -> bytes | None:
        """The store's raw key (to check and restore its backups after closing it)."""
        return self._key

    def revision(self) -> str | None:
        with self._read_engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None

    def backup(self, dest: Path | None = None, progress: Progress | None = None) -> Path:
        """An encrypted copy of the store (same key, key header copied), taken while it runs."""
        dest = dest or default_backup_path(self.path, "manual")
        conn = raw_connect(self.path, self._key)
        try:
            return copy_database(conn, self.path, dest, self._key, progress)
        finally:
            conn.close()

    def optimize(self, *, all_tables: bool = True, timeout: float = 300.0) -> list[str]:
        """Refresh the query planner's statistics where they are missing or stale (PRAGMA
        optimize, which bounds its own work), on the writer between transactions. Returns
        what it analysed. Run daily by the retention scheduler and at close."""
        mask = OPTIMIZE_ALL if all_tables else OPTIMIZE_USED

        def job(conn: Any) -> list[str]:
            todo = [str(r[0]) for r in conn.execute(f"PRAGMA optimize={mask | OPTIMIZE_DRY}")]
            if todo:
                conn.execute(f"PRAGMA optimize={mask}").fetchall()
            return todo

        done: list[str] = self.writer.run_outside_transaction(job).result(timeout)
        if done:
            log.info("query planner statistics refreshed: %s", "; ".join(done))
        return done

    def start_retention(self, cfg: RetentionConfig | None = None) -> RetentionScheduler:
        """Run retention now (catch-up) and daily, until `close()`."""
        with self._lock:
            if self._retention is None:
                if cfg is not None:
                    self.writer.set_crop_ttl(cfg.person_crops_days * 86400.0)
                self._retention = RetentionScheduler(self, cfg)
                self._retention.start()
            return self._retention

    def close(self) -> None:
        """Stop the scheduler, commit what is queued, refresh stale planner statistics,
        stop the writer, close connections."""
        for unsub in self._unsubscribe:
            unsub()
        self._unsubscribe.clear()
        with self._lock:
            sched, self._retention = self._retention, None
        if sched is not None:
            sched.stop()
        if not self.writer.closed:
            try:
                self.optimize(all_tables=False, timeout=30.0)
            except Exception as exc:  # e.g. a full disk: closing matters more
                log.warning("PRAGMA optimize at close failed: %s", exc)
        self.writer.stop()
        self._write_engine.dispose()
        self._read_engine.dispose()


def open_store(
    path: Path | str | None = None,
    passphrase: str | None = None,
    *,
    create: bool = True,
    encrypted: bool = True,
    backup_before_migrate: bool = True,
    writer_options: WriterOptions | None = None,
    ingest_options: IngestOptions | None = None,
) -> Store:
    """Open (creating and migrating as needed) the store; raises StoreError subclasses.

    `encrypted=False` opens a plain SQLite file (benchmark baseline only)."""
    p = Path(path) if path is not None else default_path()
    if p.parent == data_dir() or not p.parent.exists():
        private_dir(p.parent)
    _check_plaintext(p, encrypted)
    key = resolve_key(p, passphrase, create=create) if encrypted else None
    if create or p.exists():
        private_database(p)  # 0600; SQLite gives -wal and -shm the same mode
    prepare_database(p, key, create=create, backup=backup_before_migrate)
    return Store(p, key, writer_options=writer_options, ingest_options=ingest_options)
