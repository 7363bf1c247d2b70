"""The analysis scheduler, driven by a fake clock: which camera is analysed when, how many
jobs go out, batching, skipping to the newest frame after a stall, the analysed rate."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from app.config import CameraConfig
from app.events import CameraStatus, EventBus, FrameStats
from app.vision.cameras import CameraError, CameraReader, CameraSource, Frame
from app.vision.detections import Detections
from app.vision.scheduler import MAX_BATCH, AnalysisScheduler, CameraSlot

IMAGE = np.zeros((8, 8, 3), np.uint8)


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeReader:
    index: int = 0  # the newest frame's index; -1: no frame yet

    def latest(self) -> Frame | None:
        return None if self.index < 0 else Frame(IMAGE, self.index, 0.0, 100.0)

    def report_status(self, every_s: float) -> bool:
        return False


@dataclass
class FakePipeline:
    detect: bool = True  # False: the motion gate skips detection
    consumed: list[tuple[int, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def needs_detection(self, frame: Frame) -> bool:
        return self.detect

    def consume(self, frame: Frame, dets: Detections | None, ms: float = 0.0) -> Any:
        with self.lock:
            self.consumed.append((frame.index, dets is not None))
        return FakeResult(frame.ts, ms)


@dataclass
class FakeResult:
    ts: float
    detector_ms: float
    detections: Detections = field(default_factory=Detections.empty)
    skipped_by_motion: bool = False


class FakeDetector:
    def __init__(self, batched: bool = False) -> None:
        self.batched = batched
        self.calls: list[int] = []  # frames per inference

    def detect(self, frame: np.ndarray) -> Detections:
        self.calls.append(1)
        return Detections.empty()

    def detect_batch(self, frames: list[np.ndarray]) -> list[Detections]:
        self.calls.append(len(frames))
        return [Detections.empty() for _ in frames]


def slot(name: str, next_due: float = 0.0, period: float = 0.2, **kw: Any) -> CameraSlot:
    s = CameraSlot(
        CameraConfig(name=name, type="fake"),
        FakeReader(kw.pop("frame", 1)),  # type: ignore[arg-type]
        FakePipeline(),  # type: ignore[arg-type]
        period,
        next_due,
    )
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def scheduler(*slots: CameraSlot, workers: int = 2, batch: bool = False) -> AnalysisScheduler:
    sch = AnalysisScheduler(EventBus(), workers, clock=FakeClock())
    for s in slots:
        sch.add(s)
    sch._per_job = MAX_BATCH if batch else 1
    return sch


def names(groups: list[list[tuple[CameraSlot, Frame]]]) -> list[list[str]]:
    return [[s.cfg.name for s, _ in g] for g in groups]


@pytest.mark.parametrize(
    ("slots", "workers", "batch", "now", "expected"),
    [
        ([slot("a", next_due=1.0)], 2, False, 0.5, []),  # not due yet
        ([slot("a", next_due=1.0)], 2, False, 1.0, [["a"]]),  # due now
        ([slot("a", last_index=1)], 2, False, 1.0, []),  # no new frame since the last
        ([slot("a", frame=-1)], 2, False, 1.0, []),  # no frame at all yet
        ([slot("a", busy=True)], 2, False, 1.0, []),  # never twice at once
        # more due cameras than idle workers: the most overdue first, one each
        ([slot("a", 0.3), slot("b", 0.1), slot("c", 0.2)], 2, False, 1.0, [["b"], ["c"]]),
        ([slot("a", 0.3), slot("b", 0.1), slot("c", 0.2)], 1, False, 1.0, [["b"]]),
        # batching: every due camera goes out, spread over the idle workers
        ([slot("a", 0.3), slot("b", 0.1), slot("c", 0.2)], 2, True, 1.0, [["b", "a"], ["c"]]),
        ([slot("a", 0.3), slot("b", 0.1)], 1, True, 1.0, [["b", "a"]]),
    ],
)
def test_due_groups(
    slots: list[CameraSlot], workers: int, batch: bool, now: float, expected: list[list[str]]
) -> None:
    sch = scheduler(*slots, workers=workers, batch=batch)
    groups = sch.due_groups(now)
    assert names(groups) == expected
    for s, frame in (job for g in groups for job in g):
        assert s.busy and s.last_index == frame.index


@pytest.mark.parametrize(
    ("next_due", "period", "now", "next_after"),
    [
        (1.0, 0.2, 1.0, 1.2),  # on time: one period later
        (1.0, 0.2, 1.05, 1.2),  # a little late: the rate is kept
        (1.0, 0.2, 9.0, 9.0),  # after a stall: now, not a burst of catch-up work
    ],
)
def test_next_due_after_a_job(
    next_due: float, period: float, now: float, next_after: float
) -> None:
    s = slot("a", next_due, period)
    assert names(scheduler(s).due_groups(now)) == [["a"]]
    assert s.next_due == pytest.approx(next_after)


@pytest.mark.parametrize(
    ("slots", "inflight", "now", "wait"),
    [
        ([], 0, 0.0, 0.1),  # nothing to do: look again soon
        ([slot("a", 0.05)], 0, 0.0, 0.05),  # the next camera's time
        ([slot("a", 5.0)], 0, 0.0, 0.1),  # at most 0.1 s (new cameras, rate changes)
        ([slot("a", 0.0)], 0, 1.0, 0.002),  # overdue: at once (not a busy spin)
        ([slot("a", 0.05, busy=True)], 0, 0.0, 0.1),  # busy cameras do not count
        ([slot("a", 0.05)], 2, 0.0, 0.1),  # every worker busy: a finishing one wakes us
    ],
)
def test_next_wait(slots: list[CameraSlot], inflight: int, now: float, wait: float) -> None:
    sch = scheduler(*slots, workers=2)
    sch._inflight = inflight
    assert sch.next_wait(now) == pytest.approx(wait)


def wait_for(cond: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_thread_follows_the_fake_clock() -> None:
    """A frozen clock analyses a camera once however long the thread runs; each period
    of fake time adds one analysis; a long stall adds one, not a backlog."""
    clock = FakeClock(0.0)
    bus = EventBus()
    stats: list[FrameStats] = []
    bus.subscribe(stats.append, FrameStats)
    sch = AnalysisScheduler(bus, 2, clock=clock, wall_clock=lambda: 100.5)
    cam = slot("a", next_due=0.0, period=0.2)
    reader, pipeline = cam.reader, cam.pipeline
    assert isinstance(reader, FakeReader) and isinstance(pipeline, FakePipeline)
    detector = FakeDetector()
    sch.add(cam)
    sch.start(detector, batch=False)  # type: ignore[arg-type]
    try:
        wait_for(lambda: cam.analysed == 1)
        time.sleep(0.3)  # three scheduler wake-ups of real time, no fake time
        assert cam.analysed == 1
        reader.index = 2
        clock.now = 0.2
        wait_for(lambda: cam.analysed == 2)
        reader.index = 3
        clock.now = 60.0  # a minute later: one analysis of the newest frame
        wait_for(lambda: cam.analysed == 3)
        time.sleep(0.3)
        assert cam.analysed == 3 and pipeline.consumed == [(1, True), (2, True), (3, True)]
        assert cam.next_due == pytest.approx(60.0)  # due again, but no newer frame came
    finally:
        sch.stop()
    assert detector.calls == [1, 1, 1]
    assert [s.camera for s in stats] == ["a"] * 3 and cam.lag_s == pytest.approx(0.5)


def test_a_finishing_worker_takes_the_next_due_frame_itself() -> None:
    """One worker, two cameras due one after the other: the worker that ran "a" goes on
    with "b" in the same pool job (no round trip through the scheduler thread); with
    nothing due it hands back (its job ends)."""
    clock = FakeClock(1.0)
    sch = scheduler(slot("a", next_due=0.5), slot("b", next_due=0.9), workers=1)
    sch.clock = clock
    first = sch.due_groups(clock.now, limit=1)
    assert names(first) == [["a"]]
    sch._inflight = 1  # as _dispatch counts it
    jobs_run: list[str] = []
    sch._run_job = lambda group: jobs_run.extend(s.cfg.name for s, _ in group)  # type: ignore[method-assign]
    sch._analyse(first[0])
    assert jobs_run == ["a", "b"] and sch._inflight == 0
    a, b = sch.get("a"), sch.get("b")
    assert a is not None and b is not None and a.last_index == b.last_index == 1
    a.busy = b.busy = False
    sch._inflight = 1
    assert sch._take_next() == []  # no newer frame: the worker goes back to the pool
    assert sch._inflight == 1


def test_batches_go_through_one_inference_and_skipped_frames_through_none() -> None:
    clock = FakeClock(1.0)
    cams = [slot(n, next_due=0.0) for n in "abc"]
    assert isinstance(cams[2].pipeline, FakePipeline)
    cams[2].pipeline.detect = False  # the motion gate saw nothing on "c"
    sch = AnalysisScheduler(EventBus(), 1, clock=clock)
    for c in cams:
        sch.add(c)
    detector = FakeDetector(batched=True)
    sch.start(detector, batch=True)  # type: ignore[arg-type]
    try:
        wait_for(lambda: all(c.analysed == 1 for c in cams))
    finally:
        sch.stop()
    assert detector.calls == [2]
    assert [c.pipeline.consumed for c in cams] == [[(1, True)], [(1, True)], [(1, False)]]  # type: ignore[attr-defined]


def test_removing_a_camera_waits_for_its_running_job() -> None:
    sch = scheduler(slot("a"))
    cam = sch.get("a")
    assert cam is not None
    cam.busy = True
    done = threading.Timer(0.2, lambda: setattr(cam, "busy", False))
    done.start()
    t0 = time.monotonic()
    assert sch.remove("a") is cam
    assert time.monotonic() - t0 >= 0.15 and not cam.busy and sch.names() == []
    done.join()


def test_the_analysed_rate_does_not_jump_when_two_results_come_close_together() -> None:
    s = slot("a", period=0.2)
    s.count_result(10.0)
    s.count_result(10.04)  # a camera just added: two results 40 ms apart
    assert 4.0 <= s.analysed_fps <= 6.5, s.analysed_fps  # not 1 / 0.04 = 25
    for i in range(1, 30):
        s.count_result(10.04 + 0.5 * i)  # then 2 per second
    assert abs(s.analysed_fps - 2.0) < 0.1, s.analysed_fps


class NeverOpens(CameraSource):
    """A camera that stays offline (its port is closed)."""

    def open(self) -> None:
        raise CameraError("offline", "cannot connect (connection refused)")

    def read(self) -> np.ndarray | None:
        return None

    def close(self) -> None:
        pass

    def probe(self) -> bool | None:
        return False


def test_a_camera_that_stays_offline_is_reported_again_and_again() -> None:
    """Health rows (and so HQ's camera_health) need a report in every quarter-hour, not
    only when the status changes: the scheduler has each reader repeat its status."""
    bus = EventBus()
    seen: list[CameraStatus] = []
    bus.subscribe(seen.append, CameraStatus)
    reader = CameraReader(NeverOpens(), bus, "door", backoff_initial_s=60, probe_interval_s=60)
    sch = AnalysisScheduler(bus, 1, health_every_s=0.2)
    sch.add(CameraSlot(CameraConfig(name="door", type="fake"), reader, FakePipeline(), 0.2))  # type: ignore[arg-type]
    reader.start()
    sch.start(None)
    try:
        wait_for(lambda: [s.status for s in seen].count("offline") >= 4)
    finally:
        sch.stop()
        reader.stop()
    offline = [s for s in seen if s.status == "offline"]
    assert all(s.camera == "door" and "connection refused" in s.message for s in offline)
    gaps = [b.ts - a.ts for a, b in zip(offline, offline[1:], strict=False)]
    assert all(g >= 0.15 for g in gaps), gaps  # every 0.2 s, not on every wake-up
    n = len(seen)
    assert not reader.report_status(0.0) and len(seen) == n  # stopped: nothing more
