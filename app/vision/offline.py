"""Offline analysis of a clip: decode, detect and analyse in overlapping threads.

`analyze_clip` is a generator yielding (Frame, FrameResult) per analysed frame (the CLI
draws a progress bar from it, the UI a progress bar with a cancel button: closing the
generator stops its threads). Decoding and detection run ahead in their own threads
through small bounded queues, so that everything else (decoding the next frame and
preparing its network input, decoding the previous output and tracking it) overlaps
inference on this one: the detector thread runs nothing but inference, one
single-thread inference per core side by side (`side_by_side`).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import numpy as np

from app.config import DetectorConfig
from app.vision.detections import Detections
from app.vision.detectors.base import Detector
from app.vision.pipeline import CameraPipeline, DetectorLike, FrameResult
from app.vision.video_io import Frame, VideoInfo, iter_video, probe_video

log = logging.getLogger(__name__)

_END = object()
CPU = "CPUExecutionProvider"
MAX_SIDE_BY_SIDE = 8  # inferences at once (each holds its own buffers)
T = TypeVar("T")


@dataclass(frozen=True)
class ClipPlan:
    """What will be analysed: the clip's own properties and the analysis rate."""

    path: Path
    info: VideoInfo
    fps: float  # analysed frames per second of video
    every_frame: bool

    @property
    def expected_frames(self) -> int:
        """How many frames will be analysed (from the declared frame count)."""
        if self.every_frame or self.fps >= self.info.fps:
            return self.info.frame_count
        return int(self.info.frame_count * self.fps / self.info.fps + 0.999)


def offline_detector_config(cfg: DetectorConfig) -> DetectorConfig:
    """The detector settings for analysing a clip: unless the config fixes the thread
    count, one intra-op thread per inference, since `analyze_clip` runs one inference
    per core side by side (on 2 cores ~1.9x the frames per second of one inference at
    a time on 2 threads, ~1.35x even spin-waiting ones; bench/bench_analyze.py). The
    detections are the same."""
    if cfg.threads == 0:
        return cfg.model_copy(update={"threads": 1})
    return cfg


def side_by_side(detector: object, cpus: int | None = None) -> int:
    """How many inferences `analyze_clip` runs at once with this detector: one per core
    for an ONNX detector on the CPU with one intra-op thread, else one."""
    session = getattr(detector, "session", None)
    if session is None or getattr(detector, "provider", "") != CPU:
        return 1
    if session.get_session_options().intra_op_num_threads != 1:
        return 1
    return max(1, min(MAX_SIDE_BY_SIDE, cpus or os.cpu_count() or 1))


def plan_clip(path: str | Path, fps: float | None, every_frame: bool) -> ClipPlan:
    """Probe the clip (raises `VideoError`) and settle the analysis rate."""
    info = probe_video(path)
    if every_frame or fps is None or fps >= info.fps:
        return ClipPlan(Path(path), info, info.fps, True)
    return ClipPlan(Path(path), info, float(fps), False)


class Stage(Generic[T]):
    """A thread that drains `source` into a small bounded queue, so that producing the
    next items overlaps the consumer's work. Iterate it in one consumer thread;
    exceptions of the source are raised there. `close()` stops and joins the thread."""

    def __init__(self, name: str, source: Callable[[], Iterator[T]], depth: int = 4) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        items = self._source()
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # e.g. releases a video capture at once when we stop early

    def __iter__(self) -> Iterator[T]:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)

    def stop(self) -> None:
        """Ask the thread to stop (without waiting)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@dataclass(frozen=True, eq=False)
class _Work:
    """A frame on its way through the stages; `prepared` is None when the motion gate
    skips it, `raw` is the detector's output once inferred."""

    frame: Frame
    prepared: Any = None
    raw: Any = None
    ms: float = 0.0  # time spent in the detector's stages for this frame


def _frames(plan: ClipPlan, start_ts: float | None, until_s: float | None) -> Iterator[Frame]:
    fps = None if plan.every_frame else plan.fps
    frames = iter_video(plan.path, fps=fps, start_ts=start_ts)
    try:
        for frame in frames:
            if until_s is not None and frame.t > until_s:
                return
            yield frame
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


class _Whole(Detector):
    """A detector-like object with only `detect`: all its work happens in `infer`."""

    def __init__(self, inner: DetectorLike) -> None:
        self.inner = inner

    def detect(self, frame: np.ndarray) -> Detections:
        return self.inner.detect(frame)


def _staged(detector: DetectorLike | None) -> Detector | None:
    if detector is None or isinstance(detector, Detector):
        return detector
    return _Whole(detector)


def _prepare(
    pipeline: CameraPipeline, detector: Detector | None, frames: Iterable[Frame]
) -> Iterator[_Work]:
    """Decoder thread: motion gate and the detector's input preparation."""
    for frame in frames:
        if detector is None or not pipeline.needs_detection(frame):
            yield _Work(frame)
            continue
        t0 = time.perf_counter()
        prepared = detector.prepare(frame.image)
        yield _Work(frame, prepared, ms=(time.perf_counter() - t0) * 1000.0)


def _infer(detector: Detector | None, work: Iterable[_Work], at_once: int = 1) -> Iterator[_Work]:
    """Detector thread: nothing but inference; with `at_once` > 1 that many inferences
    run side by side in a small pool, results in frame order."""
    if detector is None or at_once <= 1:
        for item in work:
            yield _inferred(detector, item)
        return
    pending: deque[tuple[_Work, Future[_Work] | None]] = deque()
    pool = ThreadPoolExecutor(at_once, thread_name_prefix="clip-infer")
    try:
        for item in work:
            fut = None if item.prepared is None else pool.submit(_inferred, detector, item)
            pending.append((item, fut))
            while len(pending) > 2 * at_once:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())
    finally:  # also when the consumer stops early: drop what has not started, join
        pool.shutdown(wait=True, cancel_futures=True)


def _inferred(detector: Detector | None, item: _Work) -> _Work:
    if item.prepared is None or detector is None:
        return item
    t0 = time.perf_counter()
    raw = detector.infer(item.prepared)
    return _Work(item.frame, item.prepared, raw, item.ms + (time.perf_counter() - t0) * 1000.0)


def _result(item: _Work, fut: Future[_Work] | None) -> _Work:
    return item if fut is None else fut.result()


def _finish(pipeline: CameraPipeline, detector: Detector | None, item: _Work) -> FrameResult:
    """Caller's thread: the detector's output decoding, then tracking and analysis."""
    if item.prepared is None or detector is None:
        return pipeline.consume(item.frame, None)
    t0 = time.perf_counter()
    dets = detector.finish(item.raw, item.prepared)
    ms = item.ms + (time.perf_counter() - t0) * 1000.0
    return pipeline.consume(item.frame, dets, ms)


def analyze_clip(
    pipeline: CameraPipeline,
    plan: ClipPlan,
    start_ts: float | None = None,
    until_s: float | None = None,
    at_once: int | None = None,
) -> Generator[tuple[Frame, FrameResult], None, None]:
    """Run `pipeline` over the clip; yields each frame with its result. Call
    `pipeline.flush()` afterwards to close the visits still open at the end. `until_s`
    stops after that many seconds of video. `at_once`: inferences run side by side
    (default: `side_by_side(pipeline.detector)`).

    Three stages overlap: a decoder thread (decoding, motion gate, the detector's input
    preparation), a detector thread that only runs inference (one per core side by
    side with `offline_detector_config`'s single-thread sessions), and the caller's thread
    (decoding the detector's output, tracking, zones, lines, whatever the caller does
    with the results). Each frame is decoded once and detected at most once, with the
    same detections as `detector.detect(frame.image)`."""
    staged = _staged(pipeline.detector)
    decoder: Stage[_Work] = Stage(
        "clip-decoder", lambda: _prepare(pipeline, staged, _frames(plan, start_ts, until_s))
    )
    n = side_by_side(pipeline.detector) if at_once is None else at_once
    detector: Stage[_Work] = Stage("clip-detector", lambda: _infer(staged, decoder, n))
    try:
        for item in detector:
            yield item.frame, _finish(pipeline, staged, item)
    finally:
        decoder.stop()
        detector.close()
        decoder.close()
