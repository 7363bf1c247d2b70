"""Offline analysis of a clip: decode in a thread, analyse in the caller's thread.

`analyze_clip` is a generator yielding (Frame, FrameResult) per analysed frame (the CLI
draws a progress bar from it, the UI a progress bar with a cancel button: closing the
generator stops the decoder thread). Decoding runs ahead in its own thread through a
small bounded queue, so decoding the next frame overlaps inference on this one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.vision.pipeline import CameraPipeline, FrameResult
from app.vision.video_io import Frame, VideoInfo, iter_video, probe_video

log = logging.getLogger(__name__)

_END = object()


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


class FrameReader:
    """A decoder thread feeding a bounded queue; `close()` stops and joins it."""

    def __init__(self, plan: ClipPlan, depth: int = 4, start_ts: float | None = None) -> None:
        self._plan = plan
        self._start_ts = start_ts
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clip-decoder", daemon=True)
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
        fps = None if self._plan.every_frame else self._plan.fps
        frames = iter_video(self._plan.path, fps=fps, start_ts=self._start_ts)
        try:
            for frame in frames:
                if not self._put(frame):
                    return
            self._put(_END)
        except Exception as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # releases the capture at once when we stop early

    def __iter__(self) -> Iterator[Frame]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, Frame)
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def analyze_clip(
    pipeline: CameraPipeline,
    plan: ClipPlan,
    start_ts: float | None = None,
    until_s: float | None = None,
) -> Iterator[tuple[Frame, FrameResult]]:
    """Run `pipeline` over the clip; yields each frame with its result. Call
    `pipeline.flush()` afterwards to close the visits still open at the end. `until_s`
    stops after that many seconds of video."""
    reader = FrameReader(plan, start_ts=start_ts)
    try:
        for frame in reader:
            if until_s is not None and frame.t > until_s:
                break
            yield frame, pipeline.process(frame)
    finally:
        reader.close()
