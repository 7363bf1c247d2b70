"""The single writer: one thread owns every write to the store.

Callers put work on a queue and get a `Future`; the thread takes what is queued (up to
`batch_max` items), applies it in ONE transaction and resolves the futures only after
COMMIT. This is group commit without a deliberate wait: an item arriving at an idle
writer is committed at once, and under load batches form by themselves because items
pile up while the previous batch commits (`batch_ms` > 0 adds an optional linger). Vision events are written in bulk (see
`app.store.ingest`); `submit(fn)` jobs run in a SAVEPOINT each, so one failing job fails
only its own future. If the batch cannot commit (full disk, ...), every future of the
batch fails: nothing unacknowledged is claimed saved, nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.store.connect import is_full_error
from app.store.errors import StoreClosed, StoreError, StoreFull
from app.store.ingest import IngestOptions, Ingestor

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class WriterOptions:
    batch_max: int = 2000  # items per transaction
    # optional linger: wait up to this long after the first item for more (0: commit as
    # soon as the queue is drained; batches still grow under load, see the module doc)
    batch_ms: float = 0.0


@dataclass
class _Item:
    kind: str  # "event" | "events" | "job" | "raw"
    payload: Any
    future: Future[Any]


_STOP = object()


def _resolve(fut: Future[Any], result: Any = None, exc: BaseException | None = None) -> None:
    try:
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
    except InvalidStateError:  # the caller cancelled it
        pass


def full_error(exc: BaseException) -> StoreFull:
    return StoreFull(
        "the disk is full: the last changes were not saved (earlier data is safe); "
        f"free some space and try again ({exc.__class__.__name__})"
    )


class Writer:
    """The store's write thread. Start with `start()`, stop with `stop()` (drains the queue)."""

    def __init__(
        self,
        engine: Engine,
        options: WriterOptions | None = None,
        ingest_options: IngestOptions | None = None,
    ) -> None:
        self._engine = engine
        self.options = options or WriterOptions()
        self._ingestor = Ingestor(ingest_options)
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="vitrine-store-writer", daemon=True)
        self.batches = 0  # committed transactions (for tests and benchmarks)
        self.committed_items = 0
        self.last_error: StoreError | None = None
        self.on_full: Callable[[StoreFull], None] | None = None  # e.g. raise a UI alert

    # --- public API ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        """Run `fn(session)` in the writer's batch transaction; resolved after COMMIT."""
        return self._put("job", fn)

    def ingest(self, event: Any) -> Future[None]:
        """Queue one vision event (app.events); resolved after COMMIT."""
        return self._put("event", event)

    def ingest_many(self, events: Iterable[Any]) -> Future[int]:
        """Queue several events with one future (resolved with their count after COMMIT)."""
        return self._put("events", list(events))

    def run_outside_transaction(self, fn: Callable[[Any], T]) -> Future[T]:
        """Run `fn(dbapi_connection)` on the writer's connection between transactions
        (VACUUM, checkpoints, backups)."""
        return self._put("raw", fn)

    def flush(self, timeout: float | None = 60.0) -> None:
        """Wait until everything queued before this call is committed."""
        self.submit(lambda s: None).result(timeout)

    def queue_size(self) -> int:
        return self._q.qsize()

    @property
    def closed(self) -> bool:
        return self._closed

    def stop(self, timeout: float = 60.0) -> None:
        """Refuse new work, commit what is queued, stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._q.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._stop.set()
        self._fail_pending()

    # --- thread ------------------------------------------------------------------------------

    def _put(self, kind: str, payload: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise StoreClosed("the store is closed")
            self._q.put(_Item(kind, payload, fut))
        return fut

    def _fail_pending(self) -> None:
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Item):
                _resolve(item.future, exc=StoreClosed("the store closed before this was saved"))

    def set_crop_ttl(self, seconds: float) -> None:
        """How long new person crops are kept (retention's person_crops_days)."""
        self._ingestor.options.crop_ttl_s = seconds

    def _run(self) -> None:
        while not self._stop.is_set():
            batch: list[_Item] = []
            try:
                batch, stop = self._collect()
                if batch:
                    self._process(batch)
            except Exception as exc:  # never leave callers waiting on a dead thread
                log.exception("store writer error")
                for item in batch:
                    _resolve(item.future, exc=exc)
                stop = False
            if stop:
                self._stop.set()

    def _collect(self) -> tuple[list[_Item], bool]:
        try:
            first = self._q.get(timeout=0.5)
        except queue.Empty:
            return [], False
        if first is _STOP:
            return [], True
        batch: list[_Item] = [first]
        if first.kind == "raw":
            return batch, False
        linger = self.options.batch_ms / 1000.0
        deadline = time.monotonic() + linger
        while len(batch) < self.options.batch_max:
            try:
                item = self._q.get_nowait()
            except queue.Empty:  # drained: commit now (unless a linger was asked for)
                remaining = deadline - time.monotonic() if linger > 0 else 0.0
                if remaining <= 0:
                    break
                try:
                    item = self._q.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                return batch, True
            if item.kind == "raw":
                self._process(batch)
                return [item], False
            batch.append(item)
        return batch, False

    def _process(self, batch: list[_Item]) -> None:
        if batch[0].kind == "raw":
            self._run_raw(batch[0])
            return
        try:
            results = self._apply(batch)
        except Exception as exc:
            self._batch_failed(batch, exc)
            return
        self.batches += 1
        self.committed_items += len(batch)
        self.last_error = None
        for item, (res, err) in zip(batch, results, strict=True):
            _resolve(item.future, res, err)

    def _batch_failed(self, batch: list[_Item], exc: Exception) -> None:
        if is_full_error(exc):
            err = full_error(exc)
            log.error("store write failed, disk full: %s", str(exc).splitlines()[0])
            self.last_error = err
            if self.on_full is not None:
                try:
                    self.on_full(err)
                except Exception:
                    log.exception("disk-full handler failed")
            for item in batch:
                _resolve(item.future, exc=err)
            return
        if len(batch) == 1:
            log.warning("store write failed: %s", exc)
            _resolve(batch[0].future, exc=exc)
            return
        log.warning("a store batch failed (%s); retrying its items one by one", exc)
        for item in batch:
            self._process([item])

    def _apply(self, batch: list[_Item]) -> list[tuple[Any, BaseException | None]]:
        results: list[tuple[Any, BaseException | None]] = []
        pending_events: list[Any] = []
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            for item in batch:
                if item.kind == "event":
                    pending_events.append(item.payload)
                    results.append((None, None))
                elif item.kind == "events":
                    pending_events.extend(item.payload)
                    results.append((len(item.payload), None))
                else:
                    if pending_events:
                        self._ingestor.apply(session, pending_events)
                        pending_events = []
                    results.append(self._run_job(session, item.payload))
            if pending_events:
                self._ingestor.apply(session, pending_events)
        return results

    @staticmethod
    def _run_job(
        session: Session, fn: Callable[[Session], Any]
    ) -> tuple[Any, BaseException | None]:
        try:
            with session.begin_nested():
                result = fn(session)
                session.flush()
            return result, None
        except Exception as exc:
            if is_full_error(exc):
                raise
            return None, exc

    def _run_raw(self, item: _Item) -> None:
        try:
            with self._engine.connect() as conn:
                dbapi_conn = conn.connection.driver_connection
                result = item.payload(dbapi_conn)
            _resolve(item.future, result)
        except Exception as exc:
            _resolve(item.future, exc=full_error(exc) if is_full_error(exc) else exc)
