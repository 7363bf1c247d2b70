"""Camera sources: one small object per kind of camera, chosen by `CameraConfig.type`.

A source is driven by exactly one `CameraReader` thread: `open()` (raises `CameraError`
saying whether the camera is offline or refused our credentials), `read()` (the next
BGR frame, or None when none came), `close()`. `probe()` is a cheap "is it reachable
now?" check used while the camera is down; `interrupt()` may be called from another
thread to cut a paced wait short. `app.vision.cameras.create_source` picks the kind.

Kinds here: "file" (once or looped, optionally paced at its own frame rate like a live
camera: the demo camera), "usb" (by index), "fake" (synthetic frames, or frames from a
list with `ClipSource`). "rtsp" (also http://) lives in `camera_net`.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import cv2
import numpy as np

from app.config import CameraConfig
from app.vision.video_io import open_file_capture

log = logging.getLogger(__name__)

ErrorKind = Literal["offline", "auth_failed"]


class CameraError(Exception):
    """A camera that cannot be opened: `kind` is the status to show, the message says why
    (and never contains credentials). `retry_soon` False: trying again at once cannot
    help (a file that is not a video), so the reader waits long between tries."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_soon: bool = True) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retry_soon = retry_soon


class CameraSource(ABC):
    """One camera. Not thread-safe except `interrupt()`: one reader thread drives it."""

    type: ClassVar[str] = ""
    live: ClassVar[bool] = True  # False: Frame.t is media time (index / fps), not wall time

    @abstractmethod
    def open(self) -> None:
        """Connect; raise `CameraError` if the camera cannot be used right now."""

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None (stream lost, timed out, ended or interrupted)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or connection; safe to call twice."""

    @property
    def nominal_fps(self) -> float:
        """Frame rate the source declares (0.0 when unknown)."""
        return 0.0

    @property
    def ended(self) -> bool:
        """True once a finite source (file not looped, finite fake) has no more frames."""
        return False

    def probe(self) -> bool | None:
        """Cheap reachability check while the camera is down (None: cannot tell)."""
        return None

    def interrupt(self) -> None:
        """Cut a paced wait in `read()` short; callable from any thread."""
        return None

    def describe(self) -> str:
        """What this source is, safe to log (no credentials)."""
        return self.type

    def scrub(self, text: str) -> str:
        """Remove this source's secrets from a message (exception texts, ...)."""
        return text


class Pacer:
    """Releases frame k at start + k / fps (monotonic clock), like a live camera.

    Falling more than a second behind (a busy machine) restarts the schedule instead of
    bursting to catch up. `interrupt()` cuts the wait short from another thread.
    """

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._next: float | None = None
        self._wake = threading.Event()

    def wait(self) -> bool:
        """Wait for the next slot; False if interrupted."""
        now = time.monotonic()
        if self._next is None:
            self._next = now
        delay = self._next - now
        if delay > 0:
            if self._wake.wait(delay):
                return False
        elif delay < -1.0:
            self._next = now
        self._next += self.period
        return not self._wake.is_set()

    def interrupt(self) -> None:
        self._wake.set()

    def reset(self) -> None:
        self._wake.clear()
        self._next = None


class _PacedSource(CameraSource):
    """Shared pacing/interrupt logic of the file and fake sources."""

    live = False

    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime
        self._pacer: Pacer | None = None
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def _start_pacing(self, fps: float) -> None:
        self._ended = False
        self._pacer = Pacer(fps) if self.realtime and fps > 0 else None

    def _pace(self) -> bool:
        return self._pacer.wait() if self._pacer is not None else True

    def interrupt(self) -> None:
        if self._pacer is not None:
            self._pacer.interrupt()


class FileSource(_PacedSource):
    """A video file read once or looped; `realtime` paces it at its own frame rate."""

    type = "file"

    def __init__(self, path: str | Path, *, loop: bool = False, realtime: bool = False) -> None:
        super().__init__(realtime)
        self.path = Path(path)
        self.loop = loop
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0

    def describe(self) -> str:
        return f"file {self.path}"

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def _open_cap(self) -> cv2.VideoCapture:
        if not self.path.is_file():
            raise CameraError("offline", f"video file not found: {self.path}")
        cap = open_file_capture(self.path)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                "offline",
                f"cannot open {self.path}: not a video file or unsupported codec; choose "
                "another file",
                retry_soon=False,
            )
        return cap

    def open(self) -> None:
        self.close()
        self._cap = self._open_cap()
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 0 < fps <= 1000 else 25.0
        self._start_pacing(self._fps)

    def read(self) -> np.ndarray | None:
        if self._cap is None or self._ended or not self._pace():
            return None
        ok, image = self._cap.read()
        if ok:
            return image
        if not self.loop:
            self._ended = True
            return None
        self._cap.release()  # rewind by reopening: robust for every container
        self._cap = self._open_cap()
        ok, image = self._cap.read()
        if not ok:  # an empty or undecodable file would loop forever
            log.warning("%s: no frame after rewinding; treating it as ended", self.path)
            self._ended = True
            return None
        return image

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class UsbSource(CameraSource):
    """A USB / built-in camera by index (OpenCV's default backend for the platform)."""

    type = "usb"

    def __init__(self, index: int) -> None:
        self.index = index
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0

    def describe(self) -> str:
        return f"USB camera {self.index}"

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def _device(self) -> Path | None:
        return Path(f"/dev/video{self.index}") if sys.platform.startswith("linux") else None

    def probe(self) -> bool | None:
        dev = self._device()
        return dev.exists() if dev is not None else None

    def open(self) -> None:
        self.close()
        dev = self._device()
        if dev is not None and not dev.exists():
            raise CameraError("offline", f"USB camera {self.index} not found ({dev} is missing)")
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                "offline",
                f"USB camera {self.index} cannot be opened (unplugged or used by another program?)",
            )
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 0 < fps <= 1000 else 0.0

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        return image if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class _InMemorySource(_PacedSource):
    """Frames made in memory at a fixed `fps` (paced when `realtime`)."""

    fps: float

    @property
    def nominal_fps(self) -> float:
        return self.fps

    def open(self) -> None:
        self._start_pacing(self.fps)

    def close(self) -> None:
        pass


class FakeSource(_InMemorySource):
    """Synthetic frames: a bright box sliding over a grey background with a frame counter.

    `frames` limits how many (then it has ended); `realtime` paces them at `fps`.
    """

    type = "fake"

    def __init__(
        self,
        width: int = 480,
        height: int = 360,
        fps: float = 10.0,
        *,
        frames: int | None = None,
        realtime: bool = False,
    ) -> None:
        super().__init__(realtime)
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self._i = 0

    def describe(self) -> str:
        return f"fake {self.width}x{self.height}@{self.fps:g}"

    def read(self) -> np.ndarray | None:
        if self.frames is not None and self._i >= self.frames:
            self._ended = True
            return None
        if not self._pace():
            return None
        image = np.full((self.height, self.width, 3), 96, np.uint8)
        box = max(8, self.height // 6)
        x = (self._i * 4) % max(1, self.width - box)
        y = self.height // 2 - box // 2
        image[y : y + box, x : x + box] = (40, 200, 240)
        cv2.putText(image, str(self._i), (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255,) * 3, 2)
        self._i += 1
        return image


class ClipSource(_InMemorySource):
    """A clip-driven fake: yields the given frames in order (looped if asked)."""

    type = "fake"

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        fps: float = 10.0,
        *,
        loop: bool = False,
        realtime: bool = False,
    ) -> None:
        super().__init__(realtime)
        self.frames, self.fps, self.loop = frames, fps, loop
        self._i = 0

    def describe(self) -> str:
        return f"clip of {len(self.frames)} frames"

    def read(self) -> np.ndarray | None:
        if not self.frames or (self._i >= len(self.frames) and not self.loop):
            self._ended = True
            return None
        if not self._pace():
            return None
        image = self.frames[self._i % len(self.frames)]
        self._i += 1
        return image


_FAKE_URL = re.compile(r"^fake://(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$")


def fake_from_config(cfg: CameraConfig) -> CameraSource:
    """A synthetic source: `fake://WxH@FPS` or the default size."""
    if not cfg.url:
        return FakeSource(realtime=cfg.realtime)
    m = _FAKE_URL.match(cfg.url)
    if not m:
        raise ValueError(f"camera {cfg.name!r}: a fake camera url looks like fake://480x360@10")
    w, h = int(m.group(1)), int(m.group(2))
    fps = float(m.group(3) or 10.0)
    if not (16 <= w <= 8192 and 16 <= h <= 8192 and 0 < fps <= 240):
        raise ValueError(f"camera {cfg.name!r}: fake size or fps out of range: {cfg.url}")
    return FakeSource(w, h, fps, realtime=cfg.realtime)
