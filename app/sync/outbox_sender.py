"""The store-side HQ sync worker: drains the outbox to HQ in idempotent batches.

Its whole state is the outbox table, so it resumes after a restart or a crash:

1. rows that already carry a `batch_id` but no `sent_at` are a batch whose upload may
   or may not have reached HQ: they are sent again, as the same batch (same key);
2. otherwise the oldest unassigned rows (at most 500 rows / 1 MB gzip) get a new
   `batch_id`, committed BEFORE the upload, so a resend after a crash reuses it;
3. HQ's receipt ("stored" or "duplicate") marks the batch's rows `sent_at`.

Failures back off exponentially with jitter (capped); `status()` says, in plain words,
when the last sync succeeded, how many rows wait, and what went wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import AppConfig, SyncConfig
from app.store.kpi_queries import KpiParams
from app.sync import aggregates, batching
from app.sync.batching import Batch, OutboxItem
from app.sync.hq_client import HqClient, SyncError
from app.sync.store_protocol import StoreLike
from app.wire import encode_body, envelope_bytes

log = logging.getLogger(__name__)

State = Literal["idle", "sending", "waiting", "stopped"]
T = TypeVar("T")


@dataclass(frozen=True)
class SyncStatus:
    """What the desktop app shows about HQ sync."""

    state: State
    last_success_at: float | None  # epoch seconds of the last successful upload
    backlog: int  # outbox rows not yet acknowledged by HQ
    last_error: str | None  # plain words, with when the next try is
    next_attempt_at: float | None
    rows_sent: int = 0  # rows acknowledged since this worker started

    def summary(self, now: float | None = None) -> str:
        """One line for the desktop's status bar."""
        now = time.time() if now is None else now
        if self.last_success_at is None:
            last = "never synced with HQ"
        else:
            last = f"last sync with HQ {ago(now - self.last_success_at)}"
        waiting = "all sent" if self.backlog == 0 else f"{self.backlog} rows waiting"
        parts = [last, waiting] + ([self.last_error] if self.last_error else [])
        return "; ".join(parts)


@dataclass
class SyncOptions:
    interval_s: float = 60.0  # between cycles when all is sent
    max_rows: int = batching.MAX_ROWS
    max_bytes: int = batching.MAX_BYTES
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 300.0
    timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    refresh_lookback_s: float = 2 * 86400.0  # aggregates recomputed over this window
    refresh_every_s: float = 60.0
    prune_after_s: float = 7 * 86400.0  # sent rows older than this are deleted
    write_timeout_s: float = 60.0
    rand: Callable[[], float] | None = None  # jitter source (tests)


@dataclass
class _Progress:
    last_success_at: float | None = None
    last_error: str | None = None
    next_attempt_at: float | None = None
    failures: int = 0
    rows_sent: int = 0
    state: State = "idle"
    backlog: int = 0
    last_refresh: float = 0.0
    last_prune: float = 0.0


class SyncWorker:
    """A thread draining the outbox to HQ. `start()`, `wake()`, `status()`, `stop()`."""

    def __init__(
        self,
        store: StoreLike,
        client: HqClient,
        *,
        store_id: str,
        timezone: str = "UTC",
        options: SyncOptions | None = None,
        clock: Callable[[], float] = time.time,
        kpi_params: KpiParams | None = None,
    ) -> None:
        self.store = store
        self.kpi_params = kpi_params  # the hourly KPIs' settings (None: the store's zone)
        self.client = client
        self.store_id = store_id
        self.timezone = timezone
        self.opts = options or SyncOptions()
        self.clock = clock
        self._p = _Progress()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._p.last_success_at = self._read_last_sent()
        self._thread = threading.Thread(target=self._run, name="vitrine-hq-sync", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Sync now (e.g. the desktop's "Sync now" button)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.client.close()
        with self._lock:
            self._p.state = "stopped"

    # --- status ------------------------------------------------------------------------

    def status(self) -> SyncStatus:
        try:
            backlog = self._p.backlog = self.backlog()
        except Exception:  # the UI must always get an answer (the store may be closing)
            backlog = self._p.backlog
        with self._lock:
            p = self._p
            return SyncStatus(
                p.state, p.last_success_at, backlog, p.last_error, p.next_attempt_at, p.rows_sent
            )

    def backlog(self) -> int:
        with self.store.read_session() as s:
            n = s.execute(text("SELECT count(*) FROM sync_outbox WHERE sent_at IS NULL"))
            return int(n.scalar_one())

    # --- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self.cycle()
            self._wake.wait(delay)
            self._wake.clear()

    def cycle(self) -> float:
        """One pass: refresh aggregates, send everything; returns seconds until the next."""
        warning = self._maintain()
        try:
            self.drain()
        except SyncError as exc:
            return self._failed(str(exc))
        except Exception as exc:  # a bug or a store problem: report it, keep going
            log.exception("HQ sync failed")
            return self._failed(f"sync stopped on an unexpected error ({exc})")
        with self._lock:
            self._p.failures = 0
            self._p.last_error = warning
            self._p.next_attempt_at = self.clock() + self.opts.interval_s
            self._p.state = "idle"
        return self.opts.interval_s

    def _failed(self, why: str) -> float:
        with self._lock:
            self._p.failures += 1
            delay = batching.backoff_delay(
                self._p.failures,
                self.opts.backoff_base_s,
                self.opts.backoff_cap_s,
                *([self.opts.rand] if self.opts.rand else []),
            )
            self._p.last_error = f"{why}; will retry in {_human(delay)}"
            self._p.next_attempt_at = self.clock() + delay
            self._p.state = "waiting"
        log.warning("HQ sync: %s", self._p.last_error)
        return delay

    def drain(self) -> int:
        """Send batches until the outbox is empty or the worker stops; returns rows sent.

        One writer round trip per batch: recording batch N as sent and taking batch N+1
        (rows and id committed together, before its upload) is one transaction."""
        total = 0
        batch = self._pending_batch() or self._write(self._taker(None))
        while batch is not None and not self._stop.is_set():
            self._upload(batch)
            total += len(batch.items)
            batch = self._write(self._taker(batch.batch_id))
        return total

    # --- steps ---------------------------------------------------------------------------

    def _write(self, fn: Callable[[Session], T]) -> T:
        try:
            return self.store.writer.submit(fn).result(timeout=self.opts.write_timeout_s)
        except FutureTimeout:
            raise SyncError("the local store is busy; could not record sync progress") from None

    def _maintain(self) -> str | None:
        """Queue changed aggregates and prune old sent rows; a problem here is reported
        but does not stop the upload of what is already queued."""
        now = self.clock()
        try:
            if now - self._p.last_refresh >= self.opts.refresh_every_s:
                start = now - self.opts.refresh_lookback_s
                self._write(lambda s: aggregates.refresh(s, start, now + 900, self.kpi_params))
                self._p.last_refresh = now
            if now - self._p.last_prune >= 3600:
                cutoff = now - self.opts.prune_after_s
                self._write(lambda s: prune_sent(s, cutoff))
                self._p.last_prune = now
        except Exception as exc:
            log.exception("preparing HQ aggregates failed")
            return f"could not prepare the service and sales figures for HQ ({exc})"
        return None

    def _taker(self, done: str | None) -> Callable[[Session], Batch | None]:
        """A writer job: mark batch `done` sent (if any), then take the next batch."""
        now, next_id = self.clock(), batching.new_batch_id()
        max_rows, max_bytes = self.opts.max_rows, self.opts.max_bytes

        def job(s: Session) -> Batch | None:
            if done is not None:
                mark_sent(s, done, now)
            return take_batch(s, next_id, max_rows, max_bytes)

        return job

    def _pending_batch(self) -> Batch | None:
        """A batch whose upload started but was never acknowledged (an error, a crash):
        it is sent again as it was, with the same id."""
        with self.store.read_session() as s:
            bid = s.execute(
                text(
                    "SELECT batch_id FROM sync_outbox WHERE sent_at IS NULL "
                    "AND batch_id IS NOT NULL ORDER BY id LIMIT 1"
                )
            ).scalar()
            if bid is None:
                return None
            rows = s.execute(
                text(
                    "SELECT id, kind, payload FROM sync_outbox WHERE batch_id = :b "
                    "AND sent_at IS NULL ORDER BY id"
                ),
                {"b": bid},
            ).all()
        self._write(lambda s: count_attempt(s, bid))
        items = tuple(OutboxItem(r.id, r.kind, r.payload, bid) for r in rows)
        return Batch(bid, items, False)

    def _upload(self, batch: Batch) -> None:
        raw = envelope_bytes(
            self.store_id,
            self.timezone,
            batch.batch_id,
            (i.wire() for i in batch.items),
            self.clock(),
            self._waiting_after(batch.batch_id),
        )
        body = encode_body(raw)
        with self._lock:
            self._p.state = "sending"
        result = self.client.send(batch.batch_id, body)
        log.info(
            "HQ %s batch %s: %d rows, %d bytes gzip",
            result.status, batch.batch_id, len(batch.items), len(body),
        )  # fmt: skip
        with self._lock:  # HQ took a batch: the link works, a later failure starts over
            self._p.last_success_at = self.clock()
            self._p.rows_sent += len(batch.items)
            self._p.failures = 0

    def _waiting_after(self, batch_id: str) -> tuple[int, float | None] | None:
        """Rows still waiting once `batch_id` is sent, and when the oldest was made."""
        try:
            with self.store.read_session() as s:
                n, oldest = s.execute(
                    text(
                        "SELECT count(*), min(created_at) FROM sync_outbox WHERE sent_at IS NULL "
                        "AND (batch_id IS NULL OR batch_id != :b)"
                    ),
                    {"b": batch_id},
                ).one()
        except Exception:  # the figure is for HQ's health view: never stop an upload for it
            log.exception("cannot count the rows waiting for HQ")
            return None
        return int(n), None if oldest is None else float(oldest)

    def _read_last_sent(self) -> float | None:
        try:
            with self.store.read_session() as s:
                v = s.execute(text("SELECT max(sent_at) FROM sync_outbox")).scalar()
            return None if v is None else float(v)
        except Exception:
            log.exception("cannot read the last sync time")
            return None


# --- writer jobs (run in the store's single writer) ---------------------------------------


def take_batch(s: Session, batch_id: str, max_rows: int, max_bytes: int) -> Batch | None:
    """Give the oldest unassigned rows (<= max_rows, <= max_bytes gzip) the id
    `batch_id` and count their first attempt; returns them, or None if none wait."""
    conn = s.connection()
    rows = conn.exec_driver_sql(
        "SELECT id, kind, payload FROM sync_outbox WHERE sent_at IS NULL AND batch_id IS NULL "
        "ORDER BY id LIMIT ?",
        (max_rows,),
    ).all()
    if not rows:
        return None
    items = [OutboxItem(r[0], r[1], r[2], batch_id) for r in rows]
    first = batching.split(items, max_rows, max_bytes)[0]
    ids = [i.id for i in first]
    for i in range(0, len(ids), 400):
        chunk = ids[i : i + 400]
        marks = ",".join("?" * len(chunk))
        conn.exec_driver_sql(
            f"UPDATE sync_outbox SET batch_id = ?, attempts = attempts + 1 WHERE id IN ({marks})",
            (batch_id, *chunk),
        )
    return Batch(batch_id, tuple(first), True)


def count_attempt(s: Session, batch_id: str) -> None:
    s.execute(
        text("UPDATE sync_outbox SET attempts = attempts + 1 WHERE batch_id = :b"), {"b": batch_id}
    )


def mark_sent(s: Session, batch_id: str, now: float) -> None:
    s.execute(
        text("UPDATE sync_outbox SET sent_at = :t WHERE batch_id = :b AND sent_at IS NULL"),
        {"t": now, "b": batch_id},
    )


def prune_sent(s: Session, cutoff: float) -> int:
    """Delete rows HQ acknowledged before `cutoff`, but never the newest row: row ids
    must keep growing (they are the `seq` HQ uses to order versions of a row)."""
    res = s.execute(
        text(
            "DELETE FROM sync_outbox WHERE sent_at IS NOT NULL AND sent_at < :c "
            "AND id < (SELECT max(id) FROM sync_outbox)"
        ),
        {"c": cutoff},
    )
    return int(getattr(res, "rowcount", 0) or 0)


def ago(seconds: float) -> str:
    """How long ago, in a few words ("just now", "5 min ago", "3 h ago", "2 days ago")."""
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def start_sync(
    store: StoreLike,
    cfg: AppConfig | SyncConfig,
    *,
    store_id: str | None = None,
    timezone: str | None = None,
    options: SyncOptions | None = None,
) -> SyncWorker | None:
    """Start the HQ sync thread if sync is enabled and configured (else None).

    `cfg` is the whole AppConfig (store id and time zone come from `cfg.store`) or just
    its SyncConfig together with `store_id`/`timezone`. Call `.stop()` on shutdown."""
    if isinstance(cfg, AppConfig):
        sync = cfg.sync
        store_id = store_id or cfg.store.id
        timezone = timezone or cfg.store.timezone
    else:
        sync = cfg
    if not sync.enabled:
        return None
    key = sync.store_key.get_secret_value()
    if not sync.hq_url or not key or not store_id:
        log.warning("HQ sync is on but the HQ URL, store id or store key is missing; not syncing")
        return None
    opts = options or SyncOptions(interval_s=sync.interval_s)
    try:
        client = HqClient(
            sync.hq_url,
            store_id,
            key,
            timeout_s=opts.timeout_s,
            connect_timeout_s=opts.connect_timeout_s,
        )
    except SyncError as exc:
        log.error("HQ sync not started: %s", exc)
        return None
    params = KpiParams.from_config(cfg) if isinstance(cfg, AppConfig) else None
    worker = SyncWorker(store, client, store_id=store_id, timezone=timezone or "UTC",
                        options=opts, kpi_params=params)  # fmt: skip
    worker.start()
    return worker
