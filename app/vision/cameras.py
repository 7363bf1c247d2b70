"""Cameras: sources (see `camera_sources`, `camera_net`), one reader thread per camera,
and offline clip reading (see `video_io`). This module is the import point for all of it.

`CameraReader` drives one `CameraSource` in its own thread and keeps only the newest
frame: a slow consumer gets the latest picture, never a backlog (replaced frames nobody
took are counted in `dropped`). It measures the source frame rate (EMA of the
inter-frame time) and publishes `app.events.CameraStatus` on the bus whenever the
status or its message changes:

    connecting -> live -> (stalled | offline) -> ... -> live      auth_failed
    ended (a file that finished, not looped)                     stopped (stop())

Reconnecting. After a failed open the reader waits 0.5, 1, 2, 4, ... s, capped at
`backoff_max_s` (30 s), before the next full open: a full open of an IP camera costs
an FFmpeg session (and a camera that keeps seeing a wrong password may lock the
account), so long outages are retried rarely. To still be back within 5 s of a stream
returning, the wait is cut short by a cheap probe (`source.probe()`: a TCP connect
for IP cameras, the device node for USB) made every `probe_interval_s` (1 s) while the
camera was unreachable: the moment the port accepts connections again, the reader
opens at once. So recovery takes probe interval + open time (~1 s over TCP with the
short analyzeduration) + first frame, whatever the backoff has grown to. The probe
only short-cuts the wait when the camera *was unreachable*; a camera that answers but
refuses us (wrong path) follows the plain backoff, and one that refuses our password
(auth_failed) is tried again only every `auth_retry_s` (10 min: cameras lock accounts
after a few failed logins); new credentials make a new reader, which tries at once. A
video file that is not a video (or not one OpenCV can decode) is also tried again only
every `auth_retry_s`: retrying cannot help until the file or the settings change.

Frame rate. Measured afresh on every connection, after its first frames (a reconnect
first hands out a burst of buffered ones): "live" is published at the first frame, then
once more with the measured rate in its message (the health rows keep it).

Stalled. A live source that delivers no frame for `stall_after_s` (5 s) while
connected, or whose `read()` blocks that long (an IP camera's read timeout is 5 s too),
is "stalled"; the reader then reconnects. A stream that breaks (read fails twice in a
row quickly, e.g. the server went away) is "offline".

One reader never touches another's state; exceptions from a source are caught, logged
and treated as a lost stream. The loop waits on the stop Event, never sleeps; `stop()`
returns once the thread has joined (at most one read/open timeout later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from app.config import CameraConfig
from app.events import CameraStatus, EventBus
from app.vision.camera_net import (
    RtspSource,
    probe_stream,
    redact,
    rtsp_from_config,
    with_credentials,
)
from app.vision.camera_sources import (
    CameraError,
    CameraSource,
    ClipSource,
    FakeSource,
    FileSource,
    Pacer,
    UsbSource,
    fake_from_config,
)
from app.vision.video_io import Frame, VideoError, VideoInfo, iter_video, probe_video

__all__ = [
    "CameraError",
    "CameraReader",
    "CameraSource",
    "ClipSource",
    "FakeSource",
    "FileSource",
    "Frame",
    "Pacer",
    "RtspSource",
    "SourceFactory",
    "UsbSource",
    "VideoError",
    "VideoInfo",
    "create_source",
    "iter_video",
    "probe_stream",
    "probe_video",
    "redact",
    "with_credentials",
]

log = logging.getLogger(__name__)

SourceFactory = Callable[[CameraConfig], CameraSource]
# one factory per kind; the keys are CameraConfig.type's Literal
SOURCES: dict[str, SourceFactory] = {
    "file": lambda c: FileSource(c.url, loop=c.loop, realtime=c.realtime),
    "rtsp": rtsp_from_config,
    "usb": lambda c: UsbSource(c.usb_index),
    "fake": fake_from_config,
}


def create_source(cfg: CameraConfig) -> CameraSource:
    """The source for a camera's config (by `cfg.type`)."""
    factory = SOURCES.get(cfg.type)
    if factory is None:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"camera {cfg.name!r}: unknown type {cfg.type!r} (known: {known})")
    return factory(cfg)


Status = Literal["connecting", "live", "stalled", "offline", "auth_failed", "ended", "stopped"]
FPS_SKIP_FRAMES = 5  # frames after connecting left out of the rate (a burst of buffered ones)
FPS_WINDOW_S = 3.0  # the rate published with "live": measured over this long


class CameraReader:
    """One thread per camera keeping only the newest frame; see the module docstring."""

    def __init__(
        self,
        source: CameraSource,
        bus: EventBus | None,
        name: str,
        *,
        stall_after_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        probe_interval_s: float = 1.0,
        lost_after_failures: int = 2,
        fps_alpha: float = 0.1,
        auth_retry_s: float = 600.0,
    ) -> None:
        self.source = source
        self.bus = bus
        self.name = name
        self.stall_after_s = stall_after_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.probe_interval_s = probe_interval_s
        self.lost_after_failures = lost_after_failures
        self.fps_alpha = fps_alpha
        self.auth_retry_s = auth_retry_s
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._taken = True
        self._finished = False  # thread done (ended or stopped): waiters stop waiting
        self._status_lock = threading.Lock()
        self._status: Status = "stopped"
        self._message = ""
        self._reported_at = 0.0  # monotonic time of the last CameraStatus published
        self._ema_dt: float | None = None
        self._prev_frame_at: float | None = None
        self._connection_frames = 0  # frames since the source was (re)opened
        self._rate_from: tuple[float, int] | None = None  # (time, frame) the rate is from
        self._t0: float | None = None
        self._retry_soon = True  # False after an open error that retrying cannot fix
        self.frames_read = 0
        self.dropped = 0
        self.reconnects = 0

    # ---- public API -------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    @property
    def message(self) -> str:
        return self._message

    @property
    def source_fps(self) -> float:
        """Measured frames per second delivered by the source (EMA; 0.0 until known)."""
        ema = self._ema_dt
        return 1.0 / ema if ema else 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @classmethod
    def from_config(cls, cfg: CameraConfig, bus: EventBus | None, **options: Any) -> CameraReader:
        """A reader for a configured camera (source built by `create_source`)."""
        return cls(create_source(cfg), bus, cfg.name, **options)

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._finished = False
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the thread and wait for it (up to `timeout`); publishes "stopped"."""
        self._stop.set()
        self.source.interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("camera %s: reader did not stop within %.0f s", self.name, timeout)
        with self._cond:
            self._finished = True
            self._cond.notify_all()
        self._set_status("stopped", "")

    def report_status(self, every_s: float) -> bool:
        """Publish the status again, unchanged, once the last report is `every_s` old: a
        camera that stays live (or stays offline) still gets a health row in every
        quarter-hour that HQ receives. Not while stopped. True if it published."""
        if self.bus is None or self._status == "stopped":
            return False
        if time.monotonic() - self._reported_at < every_s:
            return False
        with self._status_lock:
            status, message = self._status, self._message
        self._publish(status, message)
        return True

    def latest(self) -> Frame | None:
        """The newest frame (the same one again if nothing newer came), or None."""
        with self._cond:
            self._taken = True
            return self._latest

    def wait_for_frame(self, after_index: int = -1, timeout: float | None = None) -> Frame | None:
        """Block until a frame newer than `after_index` is there and return the newest;
        None on timeout or once the reader has ended or stopped without one."""

        def ready() -> bool:
            newer = self._latest is not None and self._latest.index > after_index
            return newer or self._finished

        with self._cond:
            self._cond.wait_for(ready, timeout)
            frame = self._latest
            if frame is None or frame.index <= after_index:
                return None
            self._taken = True
            return frame

    # ---- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug here must not take the process down
            log.exception("camera %s: reader crashed", self.name)
            self._set_status("offline", "internal error in the camera reader")
        finally:
            self._close_source()
            with self._cond:
                self._finished = True
                self._cond.notify_all()
            if self._stop.is_set():
                self._set_status("stopped", "")

    def _loop(self) -> None:
        delay = self.backoff_initial_s
        self._set_status("connecting", f"opening {self.source.describe()}")
        while not self._stop.is_set():
            if self._open():
                outcome, got_frames = self._stream()
                self._close_source()
                if outcome in ("stopped", "ended"):
                    return
                self.reconnects += 1
                if got_frames:
                    delay = self.backoff_initial_s
            wait = delay
            if self._status == "auth_failed" or not self._retry_soon:
                wait, reachable = max(delay, self.auth_retry_s), None
            else:
                reachable = self._probe()
            log.debug("camera %s: retrying in %.1f s", self.name, wait)
            if self._wait_retry(wait, reachable):
                return
            delay = min(delay * 2, self.backoff_max_s)

    def _open(self) -> bool:
        """Open the source; on failure publish why (offline / auth_failed) and say False."""
        self._retry_soon = True
        try:
            self.source.open()
            self._ema_dt, self._connection_frames, self._rate_from = None, 0, None
            return True
        except CameraError as exc:
            message = self.source.scrub(exc.message)
            self._retry_soon = exc.retry_soon
            if exc.kind == "auth_failed" or not exc.retry_soon:
                message += (
                    f"; next try in {self.auth_retry_s / 60:g} min, or at once when the "
                    "camera's settings change"
                )
            self._set_status(exc.kind, message)
        except Exception as exc:
            msg = self.source.scrub(f"{self.source.describe()}: cannot open ({exc})")
            log.debug("camera %s: open raised %s", self.name, type(exc).__name__)
            self._set_status("offline", msg)
        return False

    def _stream(self) -> tuple[str, bool]:
        """Read until stopped, ended, stalled or lost; returns (outcome, got any frame).

        Stalled: no frame for `stall_after_s`, or one read() blocked that long (FFmpeg
        hands out the decoder's last buffered frames after a read timeout, so a frozen
        camera shows up as slow reads before it shows up as failed ones)."""
        got = False
        failures = 0
        self._prev_frame_at = None
        last = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                image = self.source.read()
            except Exception as exc:
                log.warning("camera %s: read failed: %s", self.name, type(exc).__name__)
                image, failures = None, self.lost_after_failures
            now = time.monotonic()
            if image is None:
                if self._stop.is_set():
                    return "stopped", got
                if self.source.ended:
                    self._set_status("ended", f"{self.source.describe()}: end of video")
                    return "ended", got
                failures += 1
            else:
                failures = 0
                got = True
                self._deliver(image, now)
            gap = now - last if image is None else now - started
            if self.source.live and gap >= self.stall_after_s:
                self._set_status("stalled", f"no frame for {gap:.0f} s; reconnecting")
                return "stalled", got
            if failures >= self.lost_after_failures:
                self._set_status("offline", "stream lost; reconnecting")
                return "lost", got
            if image is not None:
                last = now
        return "stopped", got

    def _deliver(self, image: np.ndarray, now: float) -> None:
        self._connection_frames += 1
        if self._prev_frame_at is not None and self._connection_frames > FPS_SKIP_FRAMES:
            dt = now - self._prev_frame_at
            ema = self._ema_dt
            self._ema_dt = dt if ema is None else ema + self.fps_alpha * (dt - ema)
        self._prev_frame_at = now
        index = self.frames_read
        fps = self.source.nominal_fps
        if not self.source.live and fps > 0:
            t = index / fps
        else:
            if self._t0 is None:
                self._t0 = now
            t = now - self._t0
        frame = Frame(image=image, index=index, t=t, ts=time.time())
        with self._cond:
            if not self._taken and self._latest is not None:
                self.dropped += 1
            self._latest = frame
            self._taken = False
            self.frames_read += 1
            self._cond.notify_all()
        if self._status != "live":
            self._set_status("live", self.source.describe())
        self._measure_rate(now)

    def _measure_rate(self, now: float) -> None:
        """Once per connection, after the first frames: the rate over `FPS_WINDOW_S`,
        published with "live" (and the EMA started from it)."""
        n = self._connection_frames
        if n == FPS_SKIP_FRAMES:
            self._rate_from = (now, n)
        elif self._rate_from is not None and now - self._rate_from[0] >= FPS_WINDOW_S:
            t0, n0 = self._rate_from
            self._rate_from = None
            self._ema_dt = (now - t0) / (n - n0)
            self._set_status("live", f"{self.source.describe()} ({1.0 / self._ema_dt:.1f} fps)")

    def _probe(self) -> bool | None:
        try:
            return self.source.probe()
        except Exception:
            return None

    def _wait_retry(self, delay: float, reachable: bool | None) -> bool:
        """Wait `delay` before reconnecting; True if stopped. An unreachable camera is
        probed every `probe_interval_s` and retried as soon as it answers again."""
        deadline = time.monotonic() + delay
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._stop.is_set()
            step = min(remaining, self.probe_interval_s) if reachable is False else remaining
            if self._stop.wait(step):
                return True
            if reachable is False and self._probe():
                log.info("camera %s: reachable again, reconnecting now", self.name)
                return False

    def _close_source(self) -> None:
        try:
            self.source.close()
        except Exception:
            log.warning("camera %s: close failed", self.name, exc_info=True)

    def _set_status(self, status: Status, message: str) -> None:
        with self._status_lock:
            if status == self._status and message == self._message:
                return
            self._status, self._message = status, message
        quiet = status in ("live", "connecting", "stopped", "ended")
        level = logging.INFO if quiet else logging.WARNING
        log.log(level, "camera %s: %s%s", self.name, status, f" ({message})" if message else "")
        self._publish(status, message)

    def _publish(self, status: Status, message: str) -> None:
        self._reported_at = time.monotonic()
        if self.bus is not None:
            fps = round(self.source_fps, 2)
            self.bus.publish(
                CameraStatus(camera=self.name, status=status, message=message, source_fps=fps)
            )
