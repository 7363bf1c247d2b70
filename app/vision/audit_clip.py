"""The footage of a counting audit and Vitrine's own counts on it.

A clip file is analysed exactly as `analyze` / `audit` analyse it (app/vision/offline.py),
and its frames are decoded at the replay rate for the person marking the crossings.
Frames recorded from a live camera (JPEG, kept encrypted in the store) are analysed
with the same pipeline at the configured analysis rate. Both are generators that
yield progress (0..1) and return the counted crossings of the audited line.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.config import AppConfig, LineConfig
from app.count_audit import Crossing
from app.events import EventBus, LineCross
from app.vision.offline import analyze_clip, offline_detector_config, open_clip, plan_clip
from app.vision.pipeline import CameraPipeline
from app.vision.video_io import Frame, frame_selector, iter_video, probe_video

REPLAY_FPS = 10.0  # frames a second shown to the person marking (and recorded live)
THUMB_SIDE = 160
JPEG_QUALITY = 85


def to_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the frame")
    return bytes(buf.tobytes())


@dataclass
class AuditFootage:
    """What is replayed: (t seconds, JPEG bytes) at about `fps` frames a second. Kept
    as JPEG (about 40 kB a 640x480 frame: 3 minutes at 10 fps is about 70 MB, where
    decoded pictures would take 1.6 GB); `image(i)` decodes one."""

    frames: list[tuple[float, bytes]]
    fps: float
    source: Path | None = None  # the clip file, if the footage is one
    size: tuple[int, int] = (0, 0)  # width, height
    _cache: tuple[int, np.ndarray] | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return self.frames[-1][0] if self.frames else 0.0

    def image(self, i: int) -> np.ndarray:
        cached = self._cache  # one read: the analysis thread decodes frames too
        if cached is not None and cached[0] == i:
            return cached[1]
        img = cv2.imdecode(np.frombuffer(self.frames[i][1], np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"frame {i} cannot be decoded")
        self._cache = (i, img)
        return np.asarray(img)

    def index_at(self, t: float) -> int:
        """The frame shown at `t` seconds (the last one at or before it)."""
        lo, hi = 0, len(self.frames) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.frames[mid][0] <= t + 1e-6:
                lo = mid
            else:
                hi = mid - 1
        return lo


def load_clip(
    path: str | Path, fps: float = REPLAY_FPS, until_s: float | None = None
) -> AuditFootage:
    """A clip file's frames at about `fps` (raises VideoError)."""
    info = probe_video(path)
    frames = []
    for f in iter_video(path, fps=fps, start_ts=0.0):
        if until_s is not None and f.t > until_s:
            break
        frames.append((f.t, to_jpeg(f.image)))
    return AuditFootage(frames, fps, Path(path), (info.width, info.height))


def from_jpegs(
    items: Sequence[tuple[float, bytes]], fps: float, size: tuple[int, int]
) -> AuditFootage:
    return AuditFootage(list(items), fps, None, size)


MIN_RECORD_S = 10.0  # a recording stopped earlier is too short to audit


@dataclass
class LiveRecording:
    """A recording of a live camera under way: the new frames of the camera (one a
    `frame.index`) as JPEG with their time since `started`, for up to `length_s`.
    `stop()` may end it early: what was recorded is kept if it is `long_enough`."""

    length_s: float
    started: float
    min_s: float = MIN_RECORD_S
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)
    last_index: int = -1

    def elapsed(self, now: float) -> float:
        return min(max(0.0, now - self.started), self.length_s)

    def remaining(self, now: float) -> float:
        return self.length_s - self.elapsed(now)

    def done(self, now: float) -> bool:
        return now - self.started >= self.length_s

    def add(self, frame: Frame, now: float) -> bool:
        """Keep `frame` if it is a new one (True)."""
        if frame.index == self.last_index:
            return False
        self.last_index = frame.index
        self.frames.append((self.elapsed(now), to_jpeg(frame.image)))
        self.size = (int(frame.image.shape[1]), int(frame.image.shape[0]))
        return True

    @property
    def recorded_s(self) -> float:
        """Seconds of picture kept (first to last frame)."""
        return self.frames[-1][0] - self.frames[0][0] if len(self.frames) > 1 else 0.0

    @property
    def long_enough(self) -> bool:
        return self.recorded_s >= self.min_s

    def footage(self, fps: float = REPLAY_FPS) -> AuditFootage:
        return from_jpegs(self.frames, fps, self.size)


def clock(seconds: float) -> str:
    """0:42, 3:00 (minutes:seconds)."""
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def thumbnail(image: np.ndarray, side: int = THUMB_SIDE) -> np.ndarray:
    h, w = image.shape[:2]
    s = side / max(h, w)
    return np.asarray(cv2.resize(image, (max(1, int(w * s)), max(1, int(h * s)))))


def draw_line(image: np.ndarray, line: LineConfig) -> np.ndarray:
    """A copy of `image` with the counting line and its name drawn on it."""
    out = image.copy()
    a = (int(line.start[0]), int(line.start[1]))
    b = (int(line.end[0]), int(line.end[1]))
    cv2.line(out, a, b, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.line(out, a, b, (0, 220, 255), 2, cv2.LINE_AA)
    org = (a[0] + 4, a[1] + 16)
    cv2.putText(out, line.name, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 220, 255), 1, cv2.LINE_AA)
    return out


def make_detector(cfg: AppConfig) -> Any:
    """The detector an offline analysis uses (raises ModelError / DetectorError)."""
    from app.vision.detector import create_detector
    from app.vision.models import ModelManager

    return create_detector(
        offline_detector_config(cfg.analysis.detector), ModelManager.from_config(cfg.models)
    )


def _crossings(events: Sequence[Any], line: str) -> list[Crossing]:
    return [
        Crossing(e.line, e.direction, e.t, e.track_id)
        for e in events
        if isinstance(e, LineCross) and e.line == line
    ]


def count_clip(
    cfg: AppConfig,
    camera: str,
    line: str,
    path: Path,
    detector: Any,
    fps: float | None = None,
    every_frame: bool = False,
    adaptive: bool | None = None,
) -> Generator[float, None, list[Crossing]]:
    """Vitrine's crossings of `line` on a clip file, as `analyze` counts them: by default
    the settings' adaptive rate (`fps` its base), so that the audit measures what the
    store runs."""
    if adaptive is None:
        adaptive = cfg.analysis.adaptive.enabled
    plan = plan_clip(path, fps or cfg.analysis.fps, every_frame, adaptive and not every_frame)
    pipeline = CameraPipeline(camera, cfg, detector, EventBus(), fps=plan.fps, crops=False)
    total = max(plan.expected_frames, 1)
    out: list[Crossing] = []
    for n, (_frame, result) in enumerate(
        analyze_clip(pipeline, plan, frames=open_clip(plan)), start=1
    ):
        out += _crossings(result.events, line)
        if n % 5 == 0:
            yield min(n / total, 1.0)
    out += _crossings(pipeline.flush(), line)
    return out


def count_footage(
    cfg: AppConfig, camera: str, line: str, footage: AuditFootage, detector: Any
) -> Generator[float, None, list[Crossing]]:
    """Vitrine's crossings of `line` on recorded frames, at the analysis rate (and, with
    the adaptive rate on, every recorded frame while someone is near a line)."""
    fps = min(cfg.analysis.fps, footage.fps)
    pipeline = CameraPipeline(camera, cfg, detector, EventBus(), fps=fps, crops=False)
    keep = frame_selector(footage.fps, fps)
    base = time.time()
    out: list[Crossing] = []
    total = max(len(footage.frames), 1)
    for i, (t, _jpeg) in enumerate(footage.frames):
        if next(keep) or pipeline.fast(t):
            frame = Frame(footage.image(i), i, t, base + t)
            out += _crossings(pipeline.process(frame).events, line)
        if i % 5 == 0:
            yield i / total
    out += _crossings(pipeline.flush(), line)
    return out
