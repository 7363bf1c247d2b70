"""The engine: cameras in, counted people out, on the event bus.

    engine = Engine(cfg, bus, store=store)
    engine.start()
    engine.tile_state("entrance")   # what a camera tile shows right now
    engine.apply_config(new_cfg)   # zone / line edits, cameras added or removed, live
    engine.stop()

Each camera has a `CameraReader` thread keeping only its newest frame. The analysis
scheduler (app/vision/scheduler.py) wakes every camera at its analysis rate
(`cameras[].analysis_fps`, default `analysis.fps` = 5) and hands the due frames to a
small worker pool (2 threads on a 2-core machine). The engine wires the parts together:
store, detector, cameras, scheduler, tablet server, HQ sync.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from app.alert_monitor import AlertMonitor
from app.config import AppConfig, CameraConfig, DetectorConfig
from app.events import Alert, CameraStatus, EventBus
from app.line_today import TodayCounts
from app.vision.analytics import Heatmap, QueueState
from app.vision.cameras import CameraReader, Frame, SourceFactory, create_source
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline, analysis_fps
from app.vision.scheduler import AnalysisScheduler, CameraSlot

if TYPE_CHECKING:
    from app.store.db import Store
    from app.store.kpi_cache import KpiCacheWarmer
    from app.store.weekly_report import WeeklyReportScheduler
    from app.sync.lan.server import LanServer
    from app.sync.outbox_sender import SyncStatus, SyncWorker
    from app.vision.detector import Detector
    from app.vision.faces.recogniser import FaceRecogniser

log = logging.getLogger(__name__)
HEATMAP_SAVE_S = 300.0  # how often the heatmaps are saved while running


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
    heatmap_since: float | None = None  # the start of the window the heatmap covers
    # the "recent" view: presence fading with a half-life of a few minutes (0..1)
    heatmap_recent: np.ndarray | None = field(default=None, repr=False)
    held: Detections = field(default_factory=Detections.empty)  # just lost, still counted
    stationary: Detections = field(default_factory=Detections.empty)  # not moving: ignored
    # opt-in recognition: track id -> "staff" / "returning" / "new" (never a name)
    tags: dict[int, str] = field(default_factory=dict)


def _unusable_tile(camera: str, why: str) -> TileState:
    return TileState(
        camera=camera, frame=None, frame_index=-1, detections=Detections.empty(),
        analysed_index=-1, occupancy={}, line_counts={}, queues={}, status="offline",
        message=why, source_fps=0.0, analysed_fps=0.0, detector_ms=0.0, lag_s=0.0,
    )  # fmt: skip


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
        self.scheduler = AnalysisScheduler(bus, self.workers)
        self._today: dict[str, TodayCounts] = {}  # the tiles' line counts: today's
        self._unusable: dict[str, str] = {}  # cameras whose source could not be made: why
        self._lock = threading.RLock()
        self._running = False
        self.lan_server: LanServer | None = None
        self.sync_worker: SyncWorker | None = None
        self.alerts = AlertMonitor(cfg, bus, store, views=self.latest_image)
        self._heat_stop = threading.Event()
        self._heat_saver: threading.Thread | None = None
        self._weekly: WeeklyReportScheduler | None = None  # the weekly report, on schedule
        self._kpi_cache: KpiCacheWarmer | None = None  # closed days' KPI parts, in the background
        self.faces: FaceRecogniser | None = None  # opt-in recognition only

    # --- lifecycle: read these two like a table of contents --------------------------

    def start(self) -> None:
        if self._running:
            return
        self._running = True  # so that stop() can undo a start that failed half-way
        try:
            self._attach_store()
            self.alerts.start()
            self._load_detector()
            self._load_recogniser()
            self._start_cameras()
            self._start_analysis()
            self._start_retention()
            self._start_lan_server()
            self._start_sync()
            self._start_heatmap_saver()
        except BaseException:
            self.stop()
            raise
        log.info("engine started: %d camera(s)", len(self.scheduler.names()))

    def stop(self) -> None:
        if not self._running:
            return
        self.alerts.stop()  # first: cameras stopping are no outage
        self._stop_heatmap_saver()
        self._stop_sync()
        self._stop_lan_server()
        self._stop_analysis()
        self._stop_cameras()
        self._save_heatmaps(final=True)
        self._flush_pipelines()
        self._close_detector()
        if self._weekly is not None:
            self._weekly.stop()
            self._weekly = None
        if self._kpi_cache is not None:
            self._kpi_cache.stop()
            self._kpi_cache = None
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

    def sync_status(self) -> SyncStatus | None:
        """The HQ sender's state (None: sync is off or not configured)."""
        worker = self.sync_worker
        return worker.status() if worker is not None else None

    def sync_now(self) -> bool:
        """Wake the HQ sender to send at once; False when no sender runs."""
        worker = self.sync_worker
        if worker is None:
            return False
        worker.wake()
        return True

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

    def _load_recogniser(self) -> None:
        """Opt-in recognition: the face models and the store's gallery. Anonymous mode
        (the default) loads nothing and no pipeline ever looks for a face."""
        from app.recognition import pipeline_recogniser

        try:
            self.faces = pipeline_recogniser(self.cfg, self.store)
        except Exception as exc:  # counting goes on without recognition, and says why
            self.faces = None
            log.error("recognition is off: %s", exc)

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
                if cam.enabled and self.scheduler.get(cam.name) is None:
                    self._add_camera(cam)

    def _start_analysis(self) -> None:
        self.scheduler.start(self._detector, batch=self.cfg.analysis.detector.batch)

    def _start_retention(self) -> None:
        """Retention runs once now (catching up after the machine was off), then daily;
        it belongs to the store and stops with `store.close()`."""
        if self.store is not None:
            self.store.start_retention(self.cfg.retention)
            from app.store.weekly_report import WeeklyReportScheduler

            self._weekly = WeeklyReportScheduler(self.store, self.cfg)
            self._weekly.start()
            from app.store.kpi_cache import KpiCacheWarmer
            from app.store.kpi_queries import KpiParams

            self._kpi_cache = KpiCacheWarmer(self.store, KpiParams.from_config(self.cfg))
            self._kpi_cache.start()

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
                    message=sentence(f"Tablets cannot connect: {exc}")
                    + " Choose another port in Settings, or stop the program using it.",
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

    def _stop_analysis(self) -> None:
        self.scheduler.stop()

    def _stop_cameras(self) -> None:
        for slot in self.scheduler.slots():
            slot.reader.stop()

    def _start_heatmap_saver(self) -> None:
        """Save the heatmaps every few minutes too: a power cut loses minutes, not a day."""
        if self.store is None:
            return
        self._heat_stop.clear()

        def run() -> None:
            while not self._heat_stop.wait(HEATMAP_SAVE_S):
                self._save_heatmaps()

        self._heat_saver = threading.Thread(target=run, name="heatmap-saver", daemon=True)
        self._heat_saver.start()

    def _stop_heatmap_saver(self) -> None:
        self._heat_stop.set()
        if self._heat_saver is not None:
            self._heat_saver.join(timeout=5)
            self._heat_saver = None

    def _save_heatmaps(self, final: bool = False) -> None:
        """Keep each camera's heatmap (its aggregated grid) for the next start, and add
        what each hour gained to the heatmap history (the hours over are written a last
        time; `final`: all of them, the engine is stopping)."""
        if self.store is None:
            return
        from app.store.heatmaps import save_heatmaps

        snaps = {}
        for slot in self.scheduler.slots():
            heat = slot.pipeline.analytics.heatmap
            if heat is not None and heat.grid.any():
                snaps[slot.cfg.name] = heat.snapshot()
            self._save_heat_hours(slot.cfg.name, slot.pipeline, final)
        try:
            save_heatmaps(self.store, snaps)
        except Exception as exc:  # a lost heatmap must not stop the engine stopping
            log.warning("the heatmaps could not be saved: %s", exc)

    def _save_heat_hours(self, camera: str, pipeline: CameraPipeline, final: bool) -> None:
        if self.store is None:
            return
        from app.store.heat_history import add_hours

        try:
            tz: tzinfo | None = ZoneInfo(self.cfg.store.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        try:
            add_hours(self.store, camera, pipeline.heat_hours.deltas(time.time(), final), tz)
        except Exception as exc:  # the history misses minutes; counting goes on
            log.warning("the heatmap history of %s could not be saved: %s", camera, exc)

    def _restore_heatmap(self, camera: str, pipeline: CameraPipeline) -> None:
        """Today's heatmap of a camera from before a restart (an older one is dropped)."""
        if self.store is None:
            return
        from app.store.heatmaps import load_heatmap

        try:
            snap = load_heatmap(self.store, camera)
            heat = Heatmap.from_snapshot(snap) if snap is not None else None
        except Exception as exc:
            log.warning("the heatmap of %s could not be read: %s", camera, exc)
            return
        if heat is not None and heat.since >= self._day_start():
            pipeline.analytics.saved_heatmap = heat

    def _day_start(self) -> float:
        """The start of today in the store's time zone, epoch seconds."""
        day = self._day()
        try:
            tz: tzinfo | None = ZoneInfo(self.cfg.store.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        return datetime.combine(day, dtime.min, tz).timestamp()

    def _flush_pipelines(self) -> None:
        """Close the visits still open (their events reach the store before it closes)."""
        with self._lock:
            slots = self.scheduler.remove_all()
            self._today.clear()
            self._unusable.clear()
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
            self._unusable[cam.name] = str(exc)
            self.bus.publish(CameraStatus(camera=cam.name, status="offline", message=str(exc)))
            return
        self._unusable.pop(cam.name, None)
        reader = CameraReader(source, self.bus, cam.name)
        fps = analysis_fps(self.cfg, cam.name)
        faces = self.faces.for_camera(cam.name) if self.faces is not None else None
        pipeline = CameraPipeline(
            cam.name, self.cfg, self._detector, self.bus, fps=fps, faces=faces
        )
        self._restore_heatmap(cam.name, pipeline)
        # spread the cameras over the period so that their analysis does not come in bursts
        phase = (len(self.scheduler.names()) * 0.618034 % 1.0) / fps
        self._today[cam.name] = TodayCounts(self._day(), self._stored_today(cam.name))
        reader.start()
        self.scheduler.add(CameraSlot(cam, reader, pipeline, 1.0 / fps, time.monotonic() + phase))

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
        self._unusable.pop(name, None)
        slot = self.scheduler.get(name)
        if slot is None:
            return
        slot.reader.stop()
        self.scheduler.remove(name)  # waits for its running analysis
        self._today.pop(name, None)
        self._save_heat_hours(name, slot.pipeline, final=True)
        slot.pipeline.flush()

    def cameras(self) -> list[str]:
        return self.scheduler.names()

    def apply_config(self, cfg: AppConfig) -> None:
        """Adopt a new config live: zones, lines and entrances of every camera (their
        counts and visits are kept where the geometry did not change), analysis rates,
        cameras added, removed or re-pointed. Detector changes need a restart."""
        if cfg.analysis.detector != self.cfg.analysis.detector:
            log.warning("detector settings changed: they apply after a restart")
        restart_sync = _sync_changed(self.cfg, cfg)
        faces_changed = (cfg.store.privacy_mode, cfg.faces) != (
            self.cfg.store.privacy_mode,
            self.cfg.faces,
        )
        self.alerts.apply_config(cfg)
        self._follow_kpi_settings(cfg)
        with self._lock:
            self.cfg = cfg
            if not self._running:
                return
            if faces_changed:
                self._load_recogniser()
                for name in self.scheduler.names():
                    slot = self.scheduler.get(name)
                    if slot is not None:
                        slot.pipeline.faces = (
                            self.faces.for_camera(name) if self.faces is not None else None
                        )
            wanted = {c.name: c for c in cfg.cameras if c.enabled}
            for name in [n for n in self.scheduler.names() if n not in wanted]:
                self._remove_camera(name)
            for name in [n for n in self._unusable if n not in wanted]:
                del self._unusable[name]
            for name, cam in wanted.items():
                slot = self.scheduler.get(name)
                if slot is not None and slot.cfg != cam and _source_changed(slot.cfg, cam):
                    self._remove_camera(name)
                    slot = None
                if slot is None:
                    self._add_camera(cam)
                    continue
                slot.cfg = cam
                slot.pipeline.apply_config(cfg)
                slot.period = 1.0 / analysis_fps(cfg, name)
        self.scheduler.notify()
        if restart_sync:  # a new HQ address or key: a new sender (the old one is joined)
            self._stop_sync()
            self._start_sync()

    def _follow_kpi_settings(self, cfg: AppConfig) -> None:
        """New store figures (Settings > Store figures) reach the weekly report and the
        hourly KPIs sent to HQ at once, without restarting either."""
        from app.store.kpi_queries import KpiParams

        params = KpiParams.from_config(cfg)
        if self._weekly is not None:
            self._weekly.cfg = cfg
        if self._kpi_cache is not None:  # fill the days under the new figures' key
            self._kpi_cache.params = params
        worker = self.sync_worker
        if worker is not None and not _sync_changed(self.cfg, cfg):
            worker.kpi_params = params

    # --- state for the UI ------------------------------------------------------------

    def latest_image(self, camera: str) -> np.ndarray | None:
        """The camera's newest picture (BGR), or None while it has none."""
        slot = self.scheduler.get(camera)
        frame = slot.reader.latest() if slot is not None else None
        return frame.image if frame is not None else None

    def tile_state(self, camera: str) -> TileState | None:
        slot, today = self.scheduler.get(camera), self._today.get(camera)
        if camera in self._unusable:  # its tile says why instead of "starting" for ever
            return _unusable_tile(camera, self._unusable[camera])
        if slot is None or today is None:
            return None
        frame = slot.reader.latest()
        r = slot.last_result
        heat = slot.pipeline.analytics.heatmap
        if heat is not None and heat.since < self._day_start():  # a heatmap covers today
            heat.reset(self._day_start())
        return TileState(
            camera=camera,
            frame=frame,
            frame_index=frame.index if frame is not None else -1,
            detections=r.detections if r else Detections.empty(),
            analysed_index=r.frame_index if r else -1,
            occupancy=dict(r.occupancy) if r else {},
            line_counts=today.update(
                self._day(), r.line_counts if r else {}, r.lines_taken_back if r else {}
            ),
            queues=dict(r.queues) if r else {},
            status=slot.reader.status,
            message=slot.reader.message,
            source_fps=slot.reader.source_fps,
            analysed_fps=slot.analysed_fps,
            detector_ms=r.detector_ms if r else 0.0,
            lag_s=slot.lag_s,
            heatmap=heat.normalized() if heat is not None else None,
            heatmap_since=heat.since if heat is not None else None,
            heatmap_recent=slot.pipeline.recent_heat.normalized(time.time()),
            held=r.held if r else Detections.empty(),
            stationary=r.stationary if r else Detections.empty(),
            tags=dict(r.extra.get("face_tags", {})) if r else {},
        )

    def stats(self, camera: str) -> dict[str, Any]:
        """Counters for benchmarks and health rows."""
        slot = self.scheduler.get(camera)
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


def _sync_changed(old: AppConfig, new: AppConfig) -> bool:
    """Whether the HQ sender must restart to use `new` (its settings or the store's id)."""
    return (old.sync, old.store.id, old.store.timezone) != (
        new.sync,
        new.store.id,
        new.store.timezone,
    )


def sentence(text: str) -> str:
    """`text` ending as a sentence ends (a reason may already end with "?" or ".")."""
    return text if text.endswith((".", "?", "!")) else text + "."
