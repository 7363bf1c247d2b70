"""Owns the engine for the desktop app: starts it off the GUI thread, applies config
edits live, persists them, and stops everything on close.

`engine_factory(cfg, bus, store, models_dir)` defaults to `app.engine.Engine`; tests
pass a fake. What the host uses of an engine is `app.ui.ports.EnginePort`. The GUI never waits on the engine except in `stop()`, on close.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.config import AppConfig
from app.events import EventBus
from app.ui.config_store import save_config
from app.ui.ports import EngineFactory, EnginePort
from app.ui.workers import Background
from app.words import plural

if TYPE_CHECKING:
    from app.engine import TileState
    from app.store.db import Store
    from app.sync.lan.server import LanServer
    from app.sync.outbox_sender import SyncStatus

log = logging.getLogger(__name__)

__all__ = ["EngineFactory", "EngineHost", "default_engine_factory"]

# The engine's threads (camera readers, analysis workers, ONNX Runtime's pool) are all
# started from a worker thread with this extra niceness, and inherit it: when the CPU is
# saturated by detection, the GUI thread still gets the processor first.
ENGINE_NICE = 10


def default_engine_factory(
    cfg: AppConfig, bus: EventBus, store: Store | None, models_dir: str | Path | None
) -> EnginePort:
    from app.engine import Engine

    return Engine(cfg, bus, store=store, models_dir=models_dir)


class EngineHost(QObject):
    state_changed = Signal(str, str)  # state, message
    config_changed = Signal(object)  # AppConfig, after it was applied
    config_saved = Signal(int)  # config version id
    error = Signal(str)  # one line for a person

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        store: Store | None,
        background: Background,
        engine_factory: EngineFactory | None = None,
        models_dir: str | Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.bus = bus
        self.store = store
        self.background = background
        self.factory = engine_factory or default_engine_factory
        self.models_dir = models_dir
        self._engine_worker = Background(1, self, nice=ENGINE_NICE, name="vitrine-engine-control")
        self.engine: EnginePort | None = None
        self.state = "stopped"
        self.message = ""
        self._lock = threading.Lock()

    def _set_state(self, state: str, message: str = "") -> None:
        self.state, self.message = state, message
        self.state_changed.emit(state, message)

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        if self.state in ("starting", "running"):
            return
        if self._engine_worker.closed:
            self._engine_worker = Background(
                1, self, nice=ENGINE_NICE, name="vitrine-engine-control"
            )
        self._set_state("starting", "Starting cameras and the detector…")
        cfg = self.cfg

        def work() -> EnginePort:
            engine = self.factory(cfg, self.bus, self.store, self.models_dir)
            with self._lock:
                self.engine = engine
            try:
                engine.start()
            except BaseException:
                with self._lock:  # no tile or edit may keep talking to a dead engine
                    if self.engine is engine:
                        self.engine = None
                raise
            return engine

        self._engine_worker.submit(work, self._started, self._start_failed)

    def enabled_cameras(self) -> int:
        """Cameras the engine is set to run (live or not)."""
        return len([c for c in self.cfg.cameras if c.enabled])

    def _running_message(self) -> str:
        n = self.enabled_cameras()
        return plural(n, "camera")

    def _started(self, engine: EnginePort) -> None:
        self._set_state("running", self._running_message())

    def _start_failed(self, exc: BaseException) -> None:
        log.error("engine did not start: %s", exc)
        self._set_state("failed", str(exc) or type(exc).__name__)

    def stop(self) -> None:
        """Stop the engine and join its threads (blocking; used on close)."""
        self._engine_worker.shutdown()  # lets a start or an edit in progress finish first
        with self._lock:
            engine, self.engine = self.engine, None
        if engine is not None:
            self._set_state("stopping", "Stopping…")
            try:
                engine.stop()
            except Exception:
                log.exception("engine stop failed")
        self._set_state("stopped", "")

    # --- data for the views ---------------------------------------------------------
    def tile_state(self, camera: str) -> TileState | None:
        engine = self.engine
        if engine is None:
            return None
        try:
            return engine.tile_state(camera)
        except Exception:
            log.debug("tile_state(%s) failed", camera, exc_info=True)
            return None

    def provider(self) -> str:
        """The execution provider the running detector uses (empty without an engine)."""
        engine = self.engine
        return engine.detector_provider if engine is not None else ""

    def sync_state(self) -> str:
        """The HQ sync's state in one line (empty without an engine)."""
        engine = self.engine
        return engine.sync_state() if engine is not None else ""

    def sync_status(self) -> SyncStatus | None:
        """The HQ sender's state (None without an engine or without sync)."""
        engine = self.engine
        return engine.sync_status() if engine is not None else None

    def sync_now(self) -> bool:
        """Wake the HQ sender at once; False when none runs."""
        engine = self.engine
        return engine.sync_now() if engine is not None else False

    def lan_server(self) -> LanServer | None:
        """The tablets' server, when the engine runs it."""
        engine = self.engine
        return engine.lan_server if engine is not None else None

    # --- configuration --------------------------------------------------------------
    def apply_config(self, cfg: AppConfig, author: str = "desktop", persist: bool = True) -> None:
        """Apply to the running engine (worker thread) and save with history."""
        self.cfg = cfg
        engine = self.engine
        if engine is not None:

            def work() -> None:
                engine.apply_config(cfg)

            def applied(_result: object) -> None:
                if self.state == "running":  # the camera count it shows
                    self._set_state("running", self._running_message())

            self._engine_worker.submit(
                work, applied, lambda e: self.error.emit(f"Could not apply: {e}")
            )
        elif self.state in ("stopped", "failed") and cfg.cameras:
            self.start()
        self.config_changed.emit(cfg)
        if persist:
            self.persist(cfg, author)

    def persist(self, cfg: AppConfig, author: str = "desktop") -> None:
        fut = save_config(self.store, cfg, author)

        def done(f: Any) -> None:
            exc = f.exception()
            if exc is not None:
                log.error("saving the configuration failed: %s", exc)
                self.error.emit(f"Could not save the settings: {exc}")
            else:
                self.config_saved.emit(int(f.result()))

        fut.add_done_callback(done)
