"""A store job run in a background thread at start and then every `interval_s` (the KPI
cache's warmer, the weekly report's scheduler): a failing pass is logged and the next
one runs as planned."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicJob:
    """Subclasses give `name` (the thread's), `failure` (what the log says when a pass
    fails) and `tick()` (one pass)."""

    name = "periodic"
    failure = "a periodic job failed"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self.ran = threading.Event()  # set after each pass (tests)

    def start(self) -> None:
        self._thread.start()

    def tick(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception(self.failure)
            self.ran.set()
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
