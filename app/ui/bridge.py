"""The bridge between the engine's threads and the GUI thread.

Engine threads publish events on the `EventBus`; the bridge's bus handler only stores
them (latest camera status and frame stats per camera, a bounded queue of the other
events) and returns at once. A GUI-thread timer drains that store about ten times a
second and re-emits everything as Qt signals, so widgets only ever run on the GUI
thread and a burst of events can never flood the event loop.

Frames are not events: a second timer tells the camera wall to *pull* the newest
`engine.tile_state()` of its visible tiles, so a stale frame is simply never looked at
instead of waiting in a queue. Each tile is pulled at most 15 times a second; the
tiles are split into `phases` groups pulled on successive ticks (`display_tick(phase)`),
so that one repaint never has to redraw all sixteen tiles at once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.alerts import AlertRecord
from app.events import Alert, CameraStatus, EventBus, FrameStats

log = logging.getLogger(__name__)

MAX_DISPLAY_FPS = 15.0


class EngineBridge(QObject):
    camera_status = Signal(object)  # app.events.CameraStatus, latest per camera
    frame_stats = Signal(object)  # app.events.FrameStats, latest per camera
    alert = Signal(object)  # app.events.Alert (a notice), app.alerts.AlertRecord (a rule's)
    vision_event = Signal(object)  # LineCross, ZoneEnter, Occupancy, ...
    display_tick = Signal(int, int)  # (phase, phases): pull frames for that group of tiles

    def __init__(
        self,
        bus: EventBus,
        display_fps: float = MAX_DISPLAY_FPS,
        event_hz: float = 10.0,
        max_queue: int = 5000,
        phases: int = 4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bus = bus
        self._lock = threading.Lock()
        self._status: dict[str, CameraStatus] = {}
        self._stats: dict[str, FrameStats] = {}
        self._events: deque[object] = deque(maxlen=max_queue)
        self.dropped = 0
        self.latest_status: dict[str, CameraStatus] = {}
        self.latest_stats: dict[str, FrameStats] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self.display_fps = min(max(display_fps, 1.0), MAX_DISPLAY_FPS)
        self.phases = max(1, phases)
        self._phase = 0
        self._display = QTimer(self)
        self._display.setTimerType(Qt.TimerType.PreciseTimer)
        self._display.setInterval(max(1, round(1000 / (self.display_fps * self.phases))))
        self._display.timeout.connect(self._tick)
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(round(1000 / event_hz))
        self._drain_timer.timeout.connect(self.drain)

    # --- engine side (any thread) ---------------------------------------------------
    def _on_event(self, event: Any) -> None:
        with self._lock:
            if isinstance(event, CameraStatus):
                self._status[event.camera] = event
            elif isinstance(event, FrameStats):
                self._stats[event.camera] = event
            else:
                if len(self._events) == self._events.maxlen:
                    self.dropped += 1
                self._events.append(event)

    # --- GUI side -----------------------------------------------------------------
    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.bus.subscribe(self._on_event)
        self._display.start()
        self._drain_timer.start()

    def stop(self) -> None:
        self._display.stop()
        self._drain_timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _tick(self) -> None:
        phase = self._phase
        self._phase = (phase + 1) % self.phases
        self.display_tick.emit(phase, self.phases)

    @property
    def running(self) -> bool:
        return self._display.isActive()

    def drain(self) -> None:
        """Emit everything collected since the last drain (GUI thread)."""
        with self._lock:
            status, self._status = self._status, {}
            stats, self._stats = self._stats, {}
            events = list(self._events)
            self._events.clear()
        for s in status.values():
            self.latest_status[s.camera] = s
            self.camera_status.emit(s)
        for f in stats.values():
            self.latest_stats[f.camera] = f
            self.frame_stats.emit(f)
        for ev in events:
            if isinstance(ev, Alert | AlertRecord):
                self.alert.emit(ev)
            else:
                self.vision_event.emit(ev)
