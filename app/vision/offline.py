"""Offline analysis of a clip: decode, detect and analyse in overlapping threads.

`analyze_clip` is a generator yielding (Frame, FrameResult) per analysed frame (the CLI
draws a progress bar from it, the UI a progress bar with a cancel button: closing the
generator stops its threads). Decoding and detection run ahead in their own threads
through small bounded queues, so decoding the next frame and tracking the previous one
overlap inference on this one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline, FrameResult
from app.vision.video_io import Frame, VideoInfo, iter_video, probe_video

log = logging.getLogger(__name__)

_END = object()
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


@dataclass(frozen=True)
class _Detected:
    frame: Frame
    detections: Detections | None  # None: skipped by the motion gate
    ms: float


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


def _detect(pipeline: CameraPipeline, frames: Iterable[Frame]) -> Iterator[_Detected]:
    detector = pipeline.detector
    for frame in frames:
        if not pipeline.needs_detection(frame) or detector is None:
            yield _Detected(frame, None, 0.0)
            continue
        t0 = time.perf_counter()
        dets = detector.detect(frame.image)
        yield _Detected(frame, dets, (time.perf_counter() - t0) * 1000.0)


def analyze_clip(
    pipeline: CameraPipeline,
    plan: ClipPlan,
    start_ts: float | None = None,
    until_s: float | None = None,
) -> Iterator[tuple[Frame, FrameResult]]:
    """Run `pipeline` over the clip; yields each frame with its result. Call
    `pipeline.flush()` afterwards to close the visits still open at the end. `until_s`
    stops after that many seconds of video.

    Three stages overlap: a decoder thread, a detector thread (motion gate + inference)
    and the caller's thread (tracking, zones, lines, whatever the caller does with the
    results). Each frame is decoded once and detected at most once."""
    decoder: Stage[Frame] = Stage("clip-decoder", lambda: _frames(plan, start_ts, until_s))
    detector: Stage[_Detected] = Stage("clip-detector", lambda: _detect(pipeline, decoder))
    try:
        for item in detector:
            yield item.frame, pipeline.consume(item.frame, item.detections, item.ms)
    finally:
        decoder.stop()
        detector.close()
        decoder.close()
