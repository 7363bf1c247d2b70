"""Run slow work (snapshots, report queries, engine start) off the GUI thread.

`Background.submit(fn, on_done, on_error)` runs `fn()` in a small thread pool and
calls `on_done(result)` or `on_error(exc)` back on the GUI thread through a queued
signal. `shutdown()` waits for running jobs and drops queued ones; callbacks that
arrive after shutdown are ignored.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


def lower_thread_priority(nice: int) -> bool:
    """Make the calling thread `nice` steps less important to the OS scheduler (Linux:
    per-thread niceness, inherited by every thread it starts). Never needs privileges."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        return True
    except OSError as exc:
        log.debug("could not lower the thread priority: %s", exc)
        return False


class Background(QObject):
    """A small pool of worker threads whose results come back on the GUI thread."""

    _finished = Signal(object, object, object)

    def __init__(
        self,
        workers: int = 2,
        parent: QObject | None = None,
        *,
        nice: int = 0,
        name: str = "vitrine-ui",
    ) -> None:
        super().__init__(parent)
        init = (lambda: lower_thread_priority(nice)) if nice > 0 else None
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=name, initializer=init
        )
        self._closed = False
        self._pending: set[Future[Any]] = set()
        self._finished.connect(self._deliver)

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: Callback | None = None,
    ) -> Future[Any] | None:
        if self._closed:
            return None
        fut = self._pool.submit(fn)
        self._pending.add(fut)
        fut.add_done_callback(lambda f: self._finished.emit(f, on_done, on_error))
        return fut

    @Slot(object, object, object)
    def _deliver(
        self, fut: Future[Any], on_done: Callback | None, on_error: Callback | None
    ) -> None:
        self._pending.discard(fut)
        if self._closed or fut.cancelled():
            return
        exc = fut.exception()
        try:
            if exc is not None:
                if on_error is not None:
                    on_error(exc)
                else:
                    log.warning("background job failed: %s", exc)
            elif on_done is not None:
                on_done(fut.result())
        except Exception:
            log.exception("background callback failed")

    def busy(self) -> bool:
        return any(not f.done() for f in self._pending)

    def shutdown(self) -> None:
        """Wait for running jobs, cancel queued ones; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
