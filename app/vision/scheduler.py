"""The analysis scheduler: which camera's newest frame is analysed when, on which worker.

    scheduler = AnalysisScheduler(bus, workers=2)
    scheduler.add(CameraSlot(cam, reader, pipeline, period=0.2))
    scheduler.start(detector, batch=False)
    ...
    scheduler.stop()

One thread wakes every camera at its analysis period (shorter while the adaptive rate
wants the camera fast: someone near one of its counting lines, `CameraSlot.due_period`)
and hands the due frames to a small worker pool. Only as many jobs as there are idle
workers are handed out (a job that waited in a queue would analyse a stale frame), most
overdue cameras first, those due at their base period before those due only at the
adaptive rate (so that under load every camera keeps its base rate and the fast frames
take the spare capacity; with two or more workers, one stays free when a camera reaches
its base period within a job's time). A camera is never analysed twice at once, and a
camera that falls behind skips to its newest frame instead of building a backlog. A
worker that finishes a job chooses its next one itself by the same rules (no round trip
through the scheduler thread). With `batch` (a detector that runs real batches) the
frames due together go through one `detect_batch` inference.

The same thread keeps every camera's health reported: a camera whose status did not
change reports it again every `health_every_s` (5 min), so that the store (and HQ) has a
health row for every quarter-hour of every running camera, not only for the quarter-hour
its status changed.

The decisions (`due_groups`, `next_wait`) take the time as an argument, and the clock is
injected, so tests drive them with a fake clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.config import CameraConfig
from app.events import EventBus, FrameStats
from app.vision.cameras import CameraReader, Frame
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline, FrameResult

if TYPE_CHECKING:
    from app.vision.detector import Detector

log = logging.getLogger(__name__)

MAX_BATCH = 8
HEALTH_EVERY_S = 300.0  # a status report at least this often per camera (3 per bucket)
Job = tuple["CameraSlot", Frame]


@dataclass
class CameraSlot:
    """One camera's reader, pipeline and scheduling state."""

    cfg: CameraConfig
    reader: CameraReader
    pipeline: CameraPipeline
    period: float
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
    dispatched: float = 0.0  # when its last frame was handed out (monotonic)

    def fast_period(self) -> float:
        """The period at the adaptive rate: the source's own (measured) rate, capped by
        analysis.adaptive.max_fps; never slower than `period`."""
        near = getattr(self.pipeline, "near", None)
        top = near.cfg.max_fps if near is not None else 0.0
        src = float(getattr(self.reader, "source_fps", 0.0) or 0.0)
        rates = [r for r in (top, src) if r > 0]
        if not rates:
            return self.period
        return min(self.period, 1.0 / min(rates))

    def base_due(self, now: float) -> bool:
        """Whether a base period has passed since this camera's last frame was handed
        out (or none was yet)."""
        return self.last_index < 0 or now - self.dispatched >= self.period * 0.999

    def due_period(self) -> float:
        """The period to the next analysis: `fast_period` while the pipeline's adaptive
        rate wants this camera fast (as of its last result), else `period`."""
        fast = getattr(self.pipeline, "fast", None)
        last = self.last_result
        if fast is None or last is None or not fast(last.t):
            return self.period
        return self.fast_period()

    def count_result(self, now: float) -> None:
        """A result at `now` (monotonic seconds): update the analysed rate, from the mean
        time between results started at the analysis period, so that two results close
        together (a camera just added catching up) do not read as 24 fps."""
        if self.last_done is not None:
            mean = self.mean_dt or self.period
            self.mean_dt = mean + 0.2 * (now - self.last_done - mean)
            self.analysed_fps = 1.0 / max(self.mean_dt, 1e-6)
        self.last_done = now


class AnalysisScheduler:
    """The scheduler thread and its worker pool; see the module docstring."""

    def __init__(
        self,
        bus: EventBus,
        workers: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        health_every_s: float = HEALTH_EVERY_S,
    ) -> None:
        self.bus, self.workers, self.health_every_s = bus, workers, health_every_s
        self.clock, self.wall_clock = clock, wall_clock  # monotonic, and epoch (frame lag)
        self._slots: dict[str, CameraSlot] = {}
        self._lock = threading.RLock()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._detector: Detector | None = None
        self._per_job = 1
        self._inflight = 0  # jobs submitted to the pool and not finished (under _wake)
        self._pick = threading.Lock()  # one thread at a time chooses frames
        self.job_s = 0.05  # a job's wall time (moving average, seconds)

    # --- the cameras ---------------------------------------------------------------------

    def add(self, slot: CameraSlot) -> None:
        """Schedule a camera; its first analysis is at `slot.next_due`."""
        with self._lock:
            self._slots[slot.cfg.name] = slot
        self.notify()

    def remove(self, name: str) -> CameraSlot | None:
        """Stop scheduling a camera; returns once its running job (if any) is done."""
        with self._lock:
            slot = self._slots.pop(name, None)
        if slot is None:
            return None
        while slot.busy and not self._stop.is_set():
            with self._wake:
                self._wake.wait(0.05)
        return slot

    def remove_all(self) -> list[CameraSlot]:
        with self._lock:
            slots, self._slots = list(self._slots.values()), {}
        return slots

    def get(self, name: str) -> CameraSlot | None:
        with self._lock:
            return self._slots.get(name)

    def slots(self) -> list[CameraSlot]:
        with self._lock:
            return list(self._slots.values())

    def names(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def notify(self) -> None:
        """Wake the scheduler now (a camera was added or its rate changed)."""
        with self._wake:
            self._wake.notify_all()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, detector: Detector | None, *, batch: bool = False) -> None:
        self._detector = detector
        self._per_job = MAX_BATCH if batch and detector is not None and detector.batched else 1
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="analysis")
        self._thread = threading.Thread(target=self._loop, name="analysis-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop handing out frames and wait for the running jobs."""
        self._stop.set()
        self.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._pick:
                groups = self.due_groups(self.clock())
            if groups:
                self._dispatch(groups)
            for slot in self.slots():
                slot.reader.report_status(self.health_every_s)
            with self._wake:
                self._wake.wait(timeout=self.next_wait(self.clock()))

    # --- the decisions -------------------------------------------------------------------

    def due_groups(self, now: float, *, limit: int | None = None) -> list[list[Job]]:
        """Frames to analyse at `now`, one list per idle worker (at most `limit` lists),
        most overdue cameras first; the chosen cameras are marked busy and their next
        time set."""
        free = self.workers - self._inflight
        if free <= 0:
            return []
        room = free if limit is None else min(free, limit)
        with self._lock:
            due = [s for s in self._slots.values() if not s.busy and now >= s.next_due]
        # the adaptive rate's extra frames take only spare capacity: a camera due at its
        # base period goes before one due sooner only because it is fast
        due.sort(key=lambda s: (not s.base_due(now), s.next_due))
        # ... and, with 2 or more workers, leave one idle for a base-rate frame that comes
        # due before a job would end: a base frame never waits for a fast one to finish.
        # When none comes due that soon the worker takes a fast frame instead of idling
        # (a reserve kept at all times left the workers idle ~9 % of the time at 16
        # busy cameras while every camera wanted fast frames)
        fast_room = (free - self._base_soon(now, due)) * self._per_job
        jobs: list[Job] = []
        for slot in due:
            if len(jobs) >= room * self._per_job:
                break
            extra = not slot.base_due(now)
            if extra and fast_room <= 0:
                break  # the rest are fast-only too (sorted)
            frame = slot.reader.latest()
            if frame is None or frame.index <= slot.last_index:
                continue
            if extra:
                fast_room -= 1
            slot.busy = True
            slot.last_index = frame.index
            slot.dispatched = now
            # keep the rate without bursts of catch-up work after a stall
            slot.next_due = max(slot.next_due + slot.due_period(), now)
            jobs.append((slot, frame))
        if not jobs:
            return []
        n = min(room, len(jobs))  # spread over the idle workers
        return [jobs[k::n] for k in range(n)]

    def _base_soon(self, now: float, due: list[CameraSlot]) -> bool:
        """Whether a worker should stay free for a base-rate frame: there are several
        workers and an idle camera not due now reaches its base period within a job's
        time (`job_s`, measured)."""
        if self.workers < 2:
            return False
        later, due_now = now + self.job_s, {id(s) for s in due}
        with self._lock:
            waiting = [s for s in self._slots.values() if not s.busy and id(s) not in due_now]
        return any(s.base_due(later) for s in waiting)

    def next_wait(self, now: float) -> float:
        """Seconds until the scheduler should look again (at most 0.1 s)."""
        if self._inflight >= self.workers:
            return 0.1  # a finishing worker wakes us
        with self._lock:
            dues = [s.next_due for s in self._slots.values() if not s.busy]
        if not dues:
            return 0.1
        return min(0.1, max(0.002, min(dues) - now))

    # --- the work ------------------------------------------------------------------------

    def _dispatch(self, groups: list[list[Job]]) -> None:
        pool = self._pool
        for group in groups:
            try:
                if pool is None:
                    raise RuntimeError("no pool")
                with self._wake:
                    self._inflight += 1
                fut: Future[None] = pool.submit(self._analyse, group)
            except RuntimeError:  # pool shut down while stopping
                with self._wake:
                    self._inflight -= 1
                for slot, _ in group:
                    slot.busy = False
                return
            fut.add_done_callback(_log_failure)

    def _analyse(self, group: list[Job]) -> None:
        """Run one job, then go on with the next due frames on this worker as long as
        there are some: a finishing worker takes its next frame itself instead of
        waking the scheduler thread and waiting for it to hand one back (two thread
        switches per frame, each up to the interpreter's switch interval while other
        threads run Python: about a sixth of the cores sat idle at 16 cameras)."""
        try:
            while group:
                started = time.perf_counter()
                self._run_job(group)
                self.job_s += 0.1 * (time.perf_counter() - started - self.job_s)
                group = self._take_next()
        finally:
            with self._wake:
                self._inflight -= 1
                self._wake.notify_all()

    def _take_next(self) -> list[Job]:
        """The next frames for the worker that just finished (counted as idle while it
        chooses), or [] when none is due now or the scheduler is stopping."""
        if self._stop.is_set():
            return []
        with self._pick:
            with self._wake:
                self._inflight -= 1
            groups = self.due_groups(self.clock(), limit=1)
            with self._wake:
                self._inflight += 1
        return groups[0] if groups else []

    def _run_job(self, group: list[Job]) -> None:
        """Detect (one batch, or one frame) and run the pipelines of one job's frames."""
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

    def _finish(self, slot: CameraSlot, frame: Frame, result: FrameResult) -> None:
        slot.count_result(self.clock())
        slot.last_result = result
        # someone just came near a line: the next frame is due at the fast rate, not
        # at the rest of the base period
        slot.next_due = min(slot.next_due, slot.dispatched + slot.due_period())
        slot.lag_s = max(0.0, self.wall_clock() - frame.ts)
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


def _log_failure(fut: Future[None]) -> None:
    exc = fut.exception() if not fut.cancelled() else None
    if exc is not None:
        log.error("analysis failed: %s", exc, exc_info=exc)
