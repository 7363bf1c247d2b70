"""The engine: cameras in, counted people out, on the event bus.

    engine = Engine(cfg, bus, store=store)
    engine.start()
    engine.tile_state("entrance")   # what a camera tile shows right now
    engine.apply_config(new_cfg)   # zone / line edits, cameras added or removed, live
    engine.stop()

Each camera has a `CameraReader` thread keeping only its newest frame. One scheduler
thread wakes every camera at its analysis rate (`cameras[].analysis_fps`, default
`analysis.fps` = 5) and hands the due frames to a small worker pool (2 threads on a
2-core machine). A camera is never analysed twice at once, and a camera that falls
behind skips to its newest frame instead of building a backlog. With
`analysis.detector.batch` on (and a detector that runs real batches), the frames that
are due together go through one `detect_batch` inference.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from app.alert_monitor import AlertMonitor
from app.config import AppConfig, CameraConfig, DetectorConfig
from app.events import Alert, CameraStatus, EventBus, FrameStats
from app.line_today import TodayCounts
from app.vision.analytics import QueueState
from app.vision.cameras import CameraReader, CameraSource, Frame, create_source
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline, FrameResult, analysis_fps

if TYPE_CHECKING:
    from app.store.db import Store
    from app.sync.lan.server import LanServer
    from app.sync.outbox_sender import SyncWorker
    from app.vision.detector import Detector

log = logging.getLogger(__name__)

MAX_BATCH = 8


@dataclass(frozen=True)
class TileState:
    """What a camera tile shows: newest frame, last analysed people, counts, health."""

    camera: str
    frame: Frame | None  # newest source frame (may be newer than the analysed one)
    frame_index: int
    detections: Detections  # tracked people of the last analysed frame
    analysed_index: int
    occupancy: dict[str, int]
    line_counts: dict[str, dict[str, int]]
    queues: dict[str, QueueState]
    status: str
    message: str
    source_fps: float
    analysed_fps: float
    detector_ms: float
    lag_s: float  # capture-to-result latency of the last analysed frame
    heatmap: np.ndarray | None = field(default=None, repr=False)
    held: Detections = field(default_factory=Detections.empty)  # just lost, still counted


@dataclass
class _Slot:
    """One camera's reader, pipeline and scheduling state."""

    cfg: CameraConfig
    reader: CameraReader
    pipeline: CameraPipeline
    period: float
    today: TodayCounts  # the tile's line counts: today's, not since the start
    next_due: float = 0.0
    busy: bool = False
    last_index: int = -1
    last_result: FrameResult | None = None
    last_done: float | None = None
    mean_dt: float = 0.0  # seconds between analysed results (0: none measured yet)
    analysed_fps: float = 0.0
    lag_s: float = 0.0
    analysed: int = 0
    lags: list[float] = field(default_factory=list)

    def count_result(self, now: float) -> None:
        """A result at `now` (monotonic seconds): update the analysed rate, from the mean
        time between results started at the analysis period, so that two results close
        together (a camera just added catching up) do not read as 24 fps."""
        if self.last_done is not None:
            mean = self.mean_dt or self.period
            self.mean_dt = mean + 0.2 * (now - self.last_done - mean)
            self.analysed_fps = 1.0 / max(self.mean_dt, 1e-6)
        self.last_done = now


SourceFactory = Callable[[CameraConfig], CameraSource]


class Engine:
    """Runs the cameras and their analysis; see the module docstring."""

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        store: Store | None = None,
        models_dir: str | Path | None = None,
        *,
        detector: Detector | None = None,
        source_factory: SourceFactory = create_source,
        workers: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.store = store
        self.models_dir = models_dir
        self._detector = detector
        self._owns_detector = detector is None
        self._source_factory = source_factory
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.RLock()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._inflight = 0  # jobs submitted to the pool and not finished (under _wake)
        self._running = False
        self.lan_server: LanServer | None = None
        self.sync_worker: SyncWorker | None = None
        self.alerts = AlertMonitor(cfg, bus, store)

    # --- lifecycle: read these two like a table of contents --------------------------

    def start(self) -> None:
        if self._running:
            return
        self._stop.clear()
        self._running = True  # so that stop() can undo a start that failed half-way
        try:
            self._attach_store()
            self.alerts.start()
            self._load_detector()
            self._start_cameras()
            self._start_analysis()
            self._start_scheduler()
            self._start_lan_server()
            self._start_sync()
        except BaseException:
            self.stop()
            raise
        log.info("engine started: %d camera(s)", len(self._slots))

    def stop(self) -> None:
        if not self._running:
            return
        self.alerts.stop()  # first: cameras stopping are no outage
        self._stop_sync()
        self._stop_lan_server()
        self._stop_scheduler()
        self._stop_analysis()
        self._stop_cameras()
        self._flush_pipelines()
        self._close_detector()
        self._running = False
        log.info("engine stopped")

    @property
    def running(self) -> bool:
        return self._running

    @property
    def detector_provider(self) -> str:
        """The execution provider the detector actually runs on (empty before start)."""
        return self._detector.provider if self._detector is not None else ""

    def sync_state(self) -> str:
        """One line for the status bar: last sync, backlog, last error in plain words."""
        if self.sync_worker is None:
            return "not configured (set the HQ address and store key)"
        return self.sync_worker.status().summary()

    # --- steps ---------------------------------------------------------------------------

    def _attach_store(self) -> None:
        """Vision events on the bus go to the store's single writer."""
        if self.store is not None:
            self.store.attach(self.bus)

    def _load_detector(self) -> None:
        if self._detector is None:
            from app.vision.detector import create_detector
            from app.vision.models import ModelManager

            models = ModelManager(
                self.models_dir or self.cfg.models.dir or None,
                allow_download=self.cfg.models.allow_download,
            )
            self._detector = create_detector(self._detector_config(), models)
        log.info("detector %s on %s", self._detector.name, self._detector.provider)

    def _detector_config(self) -> DetectorConfig:
        """Several workers run inferences side by side: unless the config fixes the
        thread count, each gets its share of the cores (no oversubscription)."""
        dcfg = self.cfg.analysis.detector
        if dcfg.threads == 0 and self.workers > 1:
            share = max(1, (os.cpu_count() or 1) // self.workers)
            dcfg = dcfg.model_copy(update={"threads": share})
        return dcfg

    def _start_cameras(self) -> None:
        with self._lock:
            for cam in self.cfg.cameras:
                if cam.enabled and cam.name not in self._slots:
                    self._add_camera(cam)

    def _start_analysis(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="analysis")
        self._scheduler = threading.Thread(
            target=self._schedule_loop, name="analysis-scheduler", daemon=True
        )
        self._scheduler.start()

    def _start_scheduler(self) -> None:
        """Retention runs once now (catching up after the machine was off), then daily."""
        if self.store is not None:
            self.store.start_retention(self.cfg.retention)

    def _start_lan_server(self) -> None:
        """The tablets' HTTPS server on the store LAN (needs the store)."""
        if self.store is None or not self.cfg.lan.enabled:
            return
        from app.sync.lan.server import LanServer

        server = LanServer(self.store, self.bus, self.cfg.lan, store_name=self.cfg.store.name)
        try:
            server.start()
        except OSError as exc:  # counting must go on without the tablets
            log.warning("tablet server not started: %s", exc)
            self.bus.publish(
                Alert(
                    kind="lan_unavailable",
                    message=f"Tablets cannot connect: {exc}. "
                    "Choose another port in Settings, or stop the program using it.",
                )
            )
            return
        self.lan_server = server

    def _start_sync(self) -> None:
        """Outbox uploads to HQ, when the store is provisioned for it."""
        if self.store is None:
            return
        from app.sync.outbox_sender import start_sync

        self.sync_worker = start_sync(self.store, self.cfg)

    def _stop_sync(self) -> None:
        worker, self.sync_worker = self.sync_worker, None
        if worker is not None:
            worker.stop()

    def _stop_lan_server(self) -> None:
        server, self.lan_server = self.lan_server, None
        if server is not None:
            server.stop()

    def _stop_scheduler(self) -> None:
        """Retention belongs to the store and stops with `store.close()`."""

    def _stop_analysis(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._scheduler is not None:
            self._scheduler.join(timeout=10)
            self._scheduler = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _stop_cameras(self) -> None:
        with self._lock:
            slots = list(self._slots.values())
        for slot in slots:
            slot.reader.stop()

    def _flush_pipelines(self) -> None:
        """Close the visits still open (their events reach the store before it closes)."""
        with self._lock:
            slots, self._slots = list(self._slots.values()), {}
        for slot in slots:
            slot.pipeline.flush()

    def _close_detector(self) -> None:
        if self._owns_detector and self._detector is not None:
            self._detector.close()
            self._detector = None

    # --- cameras -------------------------------------------------------------------------

    def _add_camera(self, cam: CameraConfig) -> None:
        try:
            source = self._source_factory(cam)
        except Exception as exc:  # one bad camera must not stop the others
            log.error("camera %s cannot be used: %s", cam.name, exc)
            self.bus.publish(CameraStatus(camera=cam.name, status="offline", message=str(exc)))
            return
        reader = CameraReader(source, self.bus, cam.name)
        fps = analysis_fps(self.cfg, cam.name)
        pipeline = CameraPipeline(cam.name, self.cfg, self._detector, self.bus, fps=fps)
        # spread the cameras over the period so that their analysis does not come in bursts
        phase = (len(self._slots) * 0.618034 % 1.0) / fps
        today = TodayCounts(self._day(), self._stored_today(cam.name))
        self._slots[cam.name] = _Slot(
            cam, reader, pipeline, 1.0 / fps, today, time.monotonic() + phase
        )
        reader.start()

    def _day(self) -> date:
        """Today in the store's time zone (the dashboard's day)."""
        try:
            return datetime.now(ZoneInfo(self.cfg.store.timezone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            return datetime.now().date()

    def _stored_today(self, camera: str) -> dict[str, dict[str, int]]:
        """The crossings of this camera's lines the store holds for today."""
        if self.store is None:
            return {}
        from app.store.reports import today_line_counts

        try:
            with self.store.read_session() as session:
                return today_line_counts(session, camera, self.cfg.store.timezone)
        except Exception as exc:  # the tile then counts from now; counting goes on
            log.warning("today's counts of %s could not be read: %s", camera, exc)
            return {}

    def _remove_camera(self, name: str) -> None:
        slot = self._slots.pop(name, None)
        if slot is None:
            return
        slot.reader.stop()
        while slot.busy and not self._stop.is_set():
            with self._wake:
                self._wake.wait(0.05)
        slot.pipeline.flush()

    def cameras(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def apply_config(self, cfg: AppConfig) -> None:
        """Adopt a new config live: zones, lines and entrances of every camera (their
        counts and visits are kept where the geometry did not change), analysis rates,
        cameras added, removed or re-pointed. Detector changes need a restart."""
        if cfg.analysis.detector != self.cfg.analysis.detector:
            log.warning("detector settings changed: they apply after a restart")
        self.alerts.apply_config(cfg)
        with self._lock:
            self.cfg = cfg
            if not self._running:
                return
            wanted = {c.name: c for c in cfg.cameras if c.enabled}
            for name in [n for n in self._slots if n not in wanted]:
                self._remove_camera(name)
            for name, cam in wanted.items():
                slot = self._slots.get(name)
                if slot is not None and slot.cfg != cam and _source_changed(slot.cfg, cam):
                    self._remove_camera(name)
                    slot = None
                if slot is None:
                    self._add_camera(cam)
                    continue
                slot.cfg = cam
                slot.pipeline.apply_config(cfg)
                slot.period = 1.0 / analysis_fps(cfg, name)
        with self._wake:
            self._wake.notify_all()

    # --- the analysis scheduler ------------------------------------------------------

    def _schedule_loop(self) -> None:
        while not self._stop.is_set():
            groups = self._due_groups(time.monotonic())
            if groups:
                self._dispatch(groups)
            with self._wake:
                self._wake.wait(timeout=self._next_wait(time.monotonic()))

    def _batching(self) -> bool:
        det = self._detector
        return bool(self.cfg.analysis.detector.batch and getattr(det, "batched", False))

    def _due_groups(self, now: float) -> list[list[tuple[_Slot, Frame]]]:
        """Frames to analyse now: only as many jobs as there are idle workers (a job that
        waited in a queue would analyse a stale frame), most overdue cameras first."""
        free = self.workers - self._inflight
        if free <= 0:
            return []
        per_job = MAX_BATCH if self._batching() else 1
        with self._lock:
            due = [s for s in self._slots.values() if not s.busy and now >= s.next_due]
        due.sort(key=lambda s: s.next_due)
        jobs: list[tuple[_Slot, Frame]] = []
        for slot in due:
            if len(jobs) >= free * per_job:
                break
            frame = slot.reader.latest()
            if frame is None or frame.index <= slot.last_index:
                continue
            slot.busy = True
            slot.last_index = frame.index
            # keep the rate without bursts of catch-up work after a stall
            slot.next_due = max(slot.next_due + slot.period, now)
            jobs.append((slot, frame))
        if not jobs:
            return []
        n = min(free, len(jobs))  # spread over the idle workers
        return [jobs[k::n] for k in range(n)]

    def _next_wait(self, now: float) -> float:
        if self._inflight >= self.workers:
            return 0.1  # a finishing worker wakes us
        with self._lock:
            dues = [s.next_due for s in self._slots.values() if not s.busy]
        if not dues:
            return 0.1
        return min(0.1, max(0.002, min(dues) - now))

    def _dispatch(self, groups: list[list[tuple[_Slot, Frame]]]) -> None:
        pool = self._pool
        for group in groups:
            try:
                if pool is None:
                    raise RuntimeError("no pool")
                with self._wake:
                    self._inflight += 1
                fut: Future[None] = pool.submit(self._analyse_group, group)
            except RuntimeError:  # pool shut down while stopping
                with self._wake:
                    self._inflight -= 1
                for slot, _ in group:
                    slot.busy = False
                return
            fut.add_done_callback(_log_failure)

    def _analyse_group(self, group: list[tuple[_Slot, Frame]]) -> None:
        try:
            wanted = [s.pipeline.needs_detection(f) for s, f in group]
            todo = [job for job, w in zip(group, wanted, strict=True) if w]
            skipped = [job for job, w in zip(group, wanted, strict=True) if not w]
            dets: list[Detections] = []
            ms = 0.0
            if todo and self._detector is not None:
                t0 = time.perf_counter()
                images = [f.image for _, f in todo]
                if len(images) == 1:
                    dets = [self._detector.detect(images[0])]
                else:
                    dets = self._detector.detect_batch(images)
                ms = (time.perf_counter() - t0) * 1000.0 / len(todo)
            for (slot, frame), d in zip(todo, dets, strict=True):
                self._finish(slot, frame, slot.pipeline.consume(frame, d, ms))
            for slot, frame in skipped:
                self._finish(slot, frame, slot.pipeline.consume(frame, None))
        finally:
            for slot, _ in group:
                slot.busy = False
            with self._wake:
                self._inflight -= 1
                self._wake.notify_all()

    def _finish(self, slot: _Slot, frame: Frame, result: FrameResult) -> None:
        slot.count_result(time.monotonic())
        slot.last_result = result
        slot.lag_s = max(0.0, time.time() - frame.ts)
        slot.analysed += 1
        if len(slot.lags) < 100_000:
            slot.lags.append(slot.lag_s)
        self.bus.publish(
            FrameStats(
                camera=slot.cfg.name,
                ts=result.ts,
                analysed_fps=round(slot.analysed_fps, 2),
                detector_ms=round(result.detector_ms, 2),
                people=len(result.detections),
                skipped_by_motion=result.skipped_by_motion,
            )
        )

    # --- state for the UI ------------------------------------------------------------

    def tile_state(self, camera: str) -> TileState | None:
        with self._lock:
            slot = self._slots.get(camera)
        if slot is None:
            return None
        frame = slot.reader.latest()
        r = slot.last_result
        heat = slot.pipeline.analytics.heatmap
        return TileState(
            camera=camera,
            frame=frame,
            frame_index=frame.index if frame is not None else -1,
            detections=r.detections if r else Detections.empty(),
            analysed_index=r.frame_index if r else -1,
            occupancy=dict(r.occupancy) if r else {},
            line_counts=slot.today.update(self._day(), r.line_counts if r else {}),
            queues=dict(r.queues) if r else {},
            status=slot.reader.status,
            message=slot.reader.message,
            source_fps=slot.reader.source_fps,
            analysed_fps=slot.analysed_fps,
            detector_ms=r.detector_ms if r else 0.0,
            lag_s=slot.lag_s,
            heatmap=heat.normalized() if heat is not None else None,
            held=r.held if r else Detections.empty(),
        )

    def stats(self, camera: str) -> dict[str, Any]:
        """Counters for benchmarks and health rows."""
        with self._lock:
            slot = self._slots.get(camera)
        if slot is None:
            return {}
        return {
            "analysed": slot.analysed,
            "analysed_fps": slot.analysed_fps,
            "lags": list(slot.lags),
            "frames_read": slot.reader.frames_read,
            "dropped": slot.reader.dropped,
        }


def _source_changed(old: CameraConfig, new: CameraConfig) -> bool:
    fields_ = ("type", "url", "usb_index", "username", "password", "loop", "realtime")
    return any(getattr(old, f) != getattr(new, f) for f in fields_)


def _log_failure(fut: Future[None]) -> None:
    exc = fut.exception() if not fut.cancelled() else None
    if exc is not None:
        log.error("analysis failed: %s", exc, exc_info=exc)
