"""Frames and offline video reading.

`Frame` is what every camera source and `iter_video` hands to the pipeline.
`iter_video` reads a clip sequentially for `analyze`: every frame in order (nothing is
ever dropped), or a subsample at a target rate. `probe_video` reports what a clip is.
A file that is not a video, uses an unsupported codec or stops decoding early raises
`VideoError` with a one-line message meant for a person.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0  # used when a container does not say its frame rate


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame: BGR pixels, its 0-based source index and its times."""

    image: np.ndarray = field(repr=False)  # H x W x 3, uint8, BGR
    index: int  # 0-based index of the frame in its source (monotonic, never reused)
    t: float  # seconds into the stream / clip
    ts: float  # wall-clock epoch seconds


class VideoError(ValueError):
    """A video file that cannot be read; the message is one line for a person."""


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frame_count: int  # as the container declares it (0 when unknown)
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0


def _not_a_video(path: Path) -> VideoError:
    return VideoError(f"cannot open {path}: not a video file or unsupported codec")


# Files are decoded on one thread: FFmpeg's frame threads cost ~25 % more CPU per frame
# for the same speed at these sizes (480x360 H.264: 0.62 vs 0.78 ms), and a clip's
# decoder shares the cores with inference (bench/bench_analyze.py).
FILE_DECODE_PARAMS = (cv2.CAP_PROP_N_THREADS, 1)


def quiet_native_logs() -> None:
    """Keep FFmpeg's and OpenCV's own console chatter (a warning at every reconnect
    attempt of an unreachable camera, decoder noise of a damaged clip) out of the
    console; what went wrong reaches people through our own messages."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def serial_opencv() -> None:
    """Run each OpenCV call on its calling thread. Vitrine's pipelines already spread
    frames over the cores (one inference thread per core, one worker per camera);
    OpenCV's own pool would split a frame's resize between the caller and a pool thread
    that then has to preempt an inference. On `analyze` (PETS, gate off, both cores
    inferring) the pool thread made ~2,300 context switches and the inference threads
    twice their usual count: 0.932 of the ceiling against 0.942 without it (median of 6
    alternating rounds), and the ceiling itself ran no slower (docs/performance.md)."""
    cv2.setNumThreads(1)


# FFmpeg "decodes" text files (.txt, .nfo, ...) by drawing them as ANSI art: a picture
# of text, not a video. Such a capture is refused like any other non-video file.
TEXT_CODECS = frozenset({"ansi"})


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return code.to_bytes(4, "little").decode("latin-1").strip("\0 ").lower()


def open_file_capture(path: Path) -> cv2.VideoCapture:
    """An FFmpeg capture of a video file, decoded on one thread (may not be opened: not
    a video, including a text file FFmpeg would draw as ANSI art)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, list(FILE_DECODE_PARAMS))
    if cap.isOpened() and _fourcc(cap) in TEXT_CODECS:
        cap.release()
    return cap


def _open(path: str | Path) -> tuple[Path, cv2.VideoCapture]:
    p = Path(path)
    if not p.exists():
        raise VideoError(f"cannot open {p}: no such file")
    if not p.is_file():
        raise VideoError(f"cannot open {p}: not a file")
    cap = open_file_capture(p)
    if not cap.isOpened():
        cap.release()
        raise _not_a_video(p)
    return p, cap


def _info(cap: cv2.VideoCapture, path: Path) -> VideoInfo:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        log.warning("%s does not declare a usable frame rate; assuming %s fps", path, DEFAULT_FPS)
        fps = DEFAULT_FPS
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    frame_count = int(count) if math.isfinite(count) and count > 0 else 0
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if w <= 0 or h <= 0:
        raise _not_a_video(path)
    return VideoInfo(fps=fps, frame_count=frame_count, width=w, height=h)


def probe_video(path: str | Path) -> VideoInfo:
    """Frame rate, declared frame count and size of a clip; checks a first frame decodes."""
    p, cap = _open(path)
    try:
        info = _info(cap, p)
        if not cap.grab():
            raise _not_a_video(p)
    finally:
        cap.release()
    return info


def frame_selector(source_fps: float, fps: float | None, every_n: int = 1) -> Iterator[bool]:
    """An endless keep/skip sequence: every `every_n`-th frame, or about `fps` frames a
    second of a `source_fps` stream (frame 0 always kept, no drift over long clips)."""
    if every_n < 1:
        raise ValueError("every_n must be >= 1")
    if fps is not None and fps <= 0:
        raise ValueError("fps must be > 0")
    ratio = 1.0 if fps is None else min(1.0, fps / source_fps)
    i = 0
    while True:
        if fps is not None:
            yield i == 0 or math.floor(i * ratio + 1e-9) > math.floor((i - 1) * ratio + 1e-9)
        else:
            yield i % every_n == 0
        i += 1


def iter_video(
    path: str | Path,
    fps: float | None = None,
    *,
    every_n: int = 1,
    start_ts: float | None = None,
    strict: bool = True,
) -> Iterator[Frame]:
    """Yield a clip's frames in order, without dropping any (the consumer sets the pace).

    `fps` keeps about that many frames per second of video (None: all); `every_n` keeps
    every n-th frame instead. Skipped frames are decoded but not converted. `Frame.t` is
    index / clip fps; `Frame.ts` is `start_ts` (default: now) + t. With `strict`, a clip
    that stops decoding well before its declared length raises `VideoError` at the end.
    """
    if fps is not None and every_n != 1:
        raise ValueError("give either fps or every_n, not both")
    p, cap = _open(path)
    try:
        info = _info(cap, p)
        base = time.time() if start_ts is None else start_ts
        keep = frame_selector(info.fps, fps, every_n)
        i = 0
        while cap.grab():
            if next(keep):
                ok, image = cap.retrieve()
                if ok and image is not None:
                    t = i / info.fps
                    yield Frame(image=image, index=i, t=t, ts=base + t)
            i += 1
    finally:
        cap.release()
    if i == 0:
        raise _not_a_video(p)
    expected = info.frame_count
    if strict and expected and i < expected - max(3, int(0.02 * expected)):
        raise VideoError(
            f"{p}: truncated or corrupt video: decoding stopped at frame {i} of {expected}"
        )
