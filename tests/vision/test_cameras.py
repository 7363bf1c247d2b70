"""Cameras: sources, the newest-frame reader, reconnects against a real RTSP server
(killed, frozen and restarted), RTSP authentication, and offline clip reading."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import cv2
import numpy as np
import pytest

from app.config import CameraConfig
from app.events import CameraStatus, EventBus
from app.vision.camera_net import FFMPEG_OPTIONS_ENV, ensure_ffmpeg_options, url_credentials
from app.vision.cameras import (
    CameraError,
    CameraReader,
    CameraSource,
    ClipSource,
    FakeSource,
    FileSource,
    RtspSource,
    UsbSource,
    VideoError,
    create_source,
    iter_video,
    probe_stream,
    probe_video,
    redact,
    with_credentials,
)
from tests.conftest import PETS_CLIP
from tests.vision.conftest import MjpegServer, RtspServer, free_port

PASSWORD = "S3cr3t:p@ss/w%rd"
WRONG = "Wr0ngPa55word!"


class StatusLog:
    """Records CameraStatus events; `wait_for` blocks until one with a status shows up."""

    def __init__(self, bus: EventBus, camera: str | None = None) -> None:
        self.events: list[CameraStatus] = []
        self._cond = threading.Condition()
        self.camera = camera
        bus.subscribe(self._on, CameraStatus)

    def _on(self, e: CameraStatus) -> None:
        if self.camera is None or e.camera == self.camera:
            with self._cond:
                self.events.append(e)
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def wait_for(
        self, statuses: str | tuple[str, ...], timeout: float, since: int = 0
    ) -> CameraStatus:
        wanted = (statuses,) if isinstance(statuses, str) else statuses

        def found() -> CameraStatus | None:
            return next((e for e in self.events[since:] if e.status in wanted), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            hit = found()
        assert hit is not None, f"no {wanted} within {timeout} s; saw {self.history()}"
        return hit

    def seen(self, since: int = 0) -> list[str]:
        with self._cond:
            return [e.status for e in self.events[since:]]

    def history(self) -> str:
        """Every event with its time, for failure messages."""
        with self._cond:
            t0 = self.events[0].ts if self.events else 0.0
            return "; ".join(f"{e.ts - t0:.2f}s {e.status} {e.message}" for e in self.events)


@pytest.fixture
def readers() -> Iterator[list[CameraReader]]:
    """Readers started by a test; all stopped (and joined) at its end."""
    made: list[CameraReader] = []
    yield made
    for r in made:
        r.stop()


def start_reader(
    made: list[CameraReader], source: CameraSource, bus: EventBus, name: str, **kw: Any
) -> CameraReader:
    r = CameraReader(source, bus, name, **kw)
    made.append(r)
    r.start()
    return r


def frames_within(reader: CameraReader, seconds: float) -> list[int]:
    """Indices of the distinct frames a fast consumer sees in `seconds`."""
    seen: list[int] = []
    newest = reader.latest()
    last = newest.index if newest is not None else -1
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        f = reader.wait_for_frame(last, timeout=left)
        if f is None:
            continue
        seen.append(f.index)
        last = f.index
    return seen


# ---- URLs and credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
        ("rtsp://admin@cam.local/x", "rtsp://***@cam.local/x"),
        ("rtsp://10.0.0.5/stream", "rtsp://10.0.0.5/stream"),
        (
            "http://cam/video.cgi?user=admin&pwd=s3cret&res=2",
            "http://cam/video.cgi?user=admin&pwd=%2A%2A%2A&res=2",
        ),
        (
            "http://u:p%40ss@cam:8080/mjpg?password=s3cret",
            "http://***@cam:8080/mjpg?password=%2A%2A%2A",
        ),
    ],
)
def test_redact_masks_credentials(url: str, expected: str) -> None:
    assert redact(url) == expected
    assert "s3cret" not in redact(url)


def test_credentials_are_percent_encoded_for_opening() -> None:
    full = with_credentials("rtsp://10.0.0.5:554/live?ch=1", "ad:min", PASSWORD)
    parts = urlsplit(full)
    assert (parts.hostname, parts.port, parts.path, parts.query) == (
        "10.0.0.5",
        554,
        "/live",
        "ch=1",
    )
    assert unquote(parts.username or "") == "ad:min"
    assert unquote(parts.password or "") == PASSWORD
    assert PASSWORD not in redact(full) and "S3cr3t" not in redact(full)
    # credentials already in the URL are replaced, not doubled
    assert with_credentials("rtsp://old:pw@h/x", "u", "p") == "rtsp://u:p@h/x"
    assert with_credentials("rtsp://h/x", "", "") == "rtsp://h/x"


def test_ffmpeg_options_get_tcp_and_keep_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FFMPEG_OPTIONS_ENV, "stimeout;2000000|rtsp_transport;udp")
    ensure_ffmpeg_options()
    opts = dict(p.split(";", 1) for p in os.environ[FFMPEG_OPTIONS_ENV].split("|"))
    assert opts == {"stimeout": "2000000", "rtsp_transport": "udp", "analyzeduration": "1000000"}
    monkeypatch.delenv(FFMPEG_OPTIONS_ENV)
    ensure_ffmpeg_options()
    assert os.environ[FFMPEG_OPTIONS_ENV] == "rtsp_transport;tcp|analyzeduration;1000000"


# ---- the registry ------------------------------------------------------------------------


def test_create_source_by_type(tmp_path: Path) -> None:
    cases: list[tuple[dict[str, object], type]] = [
        ({"type": "file", "url": str(PETS_CLIP), "loop": True}, FileSource),
        (
            {"type": "rtsp", "url": "rtsp://10.0.0.5/s", "username": "u", "password": "p"},
            RtspSource,
        ),
        ({"type": "usb", "usb_index": 2}, UsbSource),
        ({"type": "fake"}, FakeSource),
        ({"type": "fake", "url": "fake://320x240@15"}, FakeSource),
    ]
    for fields, cls in cases:
        src = create_source(CameraConfig.model_validate({"name": "c", **fields}))
        assert type(src) is cls
        assert "p@" not in src.describe()
    reader = CameraReader.from_config(CameraConfig(name="lobby", type="fake"), None)
    assert reader.name == "lobby" and isinstance(reader.source, FakeSource)
    fake = create_source(CameraConfig(name="c", type="fake", url="fake://320x240@15"))
    fake.open()
    image = fake.read()
    assert image is not None and image.shape == (240, 320, 3) and fake.nominal_fps == 15
    with pytest.raises(ValueError, match="fake://480x360@10"):
        create_source(CameraConfig(name="c", type="fake", url="fake://big"))
    odd = CameraConfig(name="c", type="fake").model_copy(update={"type": "ftp"})
    with pytest.raises(ValueError, match="unknown type 'ftp'"):
        create_source(odd)


def test_missing_usb_camera_is_offline_with_a_clear_message() -> None:
    with pytest.raises(CameraError, match="USB camera 63") as err:
        UsbSource(63).open()
    assert err.value.kind == "offline"


# ---- newest-frame semantics, end of stream, pacing -------------------------------------------


def test_slow_consumer_gets_newest_frame_and_never_a_backlog(readers: list[CameraReader]) -> None:
    bus = EventBus()
    reader = start_reader(readers, FakeSource(64, 48, fps=100, realtime=True), bus, "fast")
    assert reader.wait_for_frame(-1, timeout=5) is not None
    work = threading.Event()
    taken: list[int] = []
    for _ in range(10):
        work.wait(0.1)  # a consumer that needs 100 ms per frame
        delivered = reader.frames_read
        frame = reader.latest()
        assert frame is not None
        taken.append(frame.index)
        # nothing older than what was already delivered when we asked: no backlog
        assert frame.index >= delivered - 1, (frame.index, delivered)
    reader.stop()
    steps = np.diff(taken)
    assert (steps > 0).all()
    assert steps.mean() >= 4, f"consumer should skip ahead, got steps {steps}"
    # every frame was either handed out or dropped (the last one may be untaken)
    distinct = len(set(taken)) + 1  # + the first wait_for_frame
    assert reader.frames_read - reader.dropped - distinct in (0, 1)
    assert reader.dropped >= 0.7 * reader.frames_read


def test_finite_clip_ends_and_waiters_return(readers: list[CameraReader]) -> None:
    bus = EventBus()
    log = StatusLog(bus)
    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(5)]
    reader = start_reader(readers, ClipSource(frames, fps=5.0), bus, "clip")
    log.wait_for("ended", timeout=5)
    assert log.seen()[0] == "connecting"
    assert reader.frames_read == 5
    last = reader.latest()
    assert last is not None and last.index == 4 and last.t == pytest.approx(4 / 5.0)
    assert int(last.image[0, 0, 0]) == 4
    t0 = time.monotonic()
    assert reader.wait_for_frame(4, timeout=5) is None
    assert time.monotonic() - t0 < 1.0, "waiting on an ended reader must not block"
    assert not reader.running
    reader.stop()
    assert reader.status == "stopped" and log.seen()[-1] == "stopped"


def _short_clip(path: Path, n: int) -> Path:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (480, 360))
    for f in iter_video(PETS_CLIP, strict=False):
        if f.index >= n:
            break
        out.write(f.image)
    out.release()
    return path


def test_looped_file_is_paced_at_its_frame_rate(
    tmp_path: Path, readers: list[CameraReader]
) -> None:
    clip = _short_clip(tmp_path / "short.avi", 12)
    bus = EventBus()
    log = StatusLog(bus)
    reader = start_reader(readers, FileSource(clip, loop=True, realtime=True), bus, "demo")
    assert reader.wait_for_frame(-1, timeout=5) is not None
    t0 = time.monotonic()
    seen = frames_within(reader, 3.0)
    rate = len(seen) / (time.monotonic() - t0)
    assert 8.5 <= rate <= 11.5, f"paced at {rate:.1f} fps, clip is 10 fps"
    assert 8.5 <= reader.source_fps <= 11.5
    assert seen == list(range(seen[0], seen[0] + len(seen))), "a fast consumer misses nothing"
    assert seen[-1] > 12, "the 12-frame clip must have looped"
    last = reader.latest()
    assert last is not None and last.t == pytest.approx(last.index / 10.0)
    assert "ended" not in log.seen()


def test_unpaced_file_runs_fast_and_ends(tmp_path: Path, readers: list[CameraReader]) -> None:
    clip = _short_clip(tmp_path / "short.avi", 30)
    bus = EventBus()
    log = StatusLog(bus)
    t0 = time.monotonic()
    reader = start_reader(readers, FileSource(clip), bus, "file")
    log.wait_for("ended", timeout=10)
    assert time.monotonic() - t0 < 2.5, "30 frames at 10 fps unpaced must take far less than 3 s"
    assert reader.frames_read == 30


# ---- reconnect logic with fakes (timing of the backoff and the probe) ------------------------


class FlakySource(CameraSource):
    """Fails to open `fail_opens` times (kind `kind`), then streams fake frames;
    `probe_result` is what the cheap probe answers; `explode` makes read() raise."""

    type = "fake"

    def __init__(
        self, fail_opens: int = 10**6, kind: str = "offline", probe_result: bool | None = None
    ) -> None:
        self.fail_opens, self.kind, self.probe_result = fail_opens, kind, probe_result
        self.open_times: list[float] = []
        self.explode = False
        self._fake = FakeSource(32, 24, fps=50, realtime=True)

    def open(self) -> None:
        self.open_times.append(time.monotonic())
        if len(self.open_times) <= self.fail_opens:
            raise CameraError(self.kind, f"fake {self.kind}")  # type: ignore[arg-type]
        self._fake.open()

    def read(self) -> np.ndarray | None:
        if self.explode:
            raise RuntimeError("driver crashed")
        return self._fake.read()

    def close(self) -> None:
        pass

    def probe(self) -> bool | None:
        return self.probe_result

    def interrupt(self) -> None:
        self._fake.interrupt()


def test_backoff_doubles_up_to_its_cap(readers: list[CameraReader]) -> None:
    src = FlakySource()
    start_reader(readers, src, EventBus(), "down", backoff_initial_s=0.05, backoff_max_s=0.4)
    deadline = time.monotonic() + 10
    while len(src.open_times) < 8 and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    readers[0].stop()
    gaps = np.diff(src.open_times[:8])
    expected = [0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4]
    for gap, want in zip(gaps, expected, strict=True):
        assert want * 0.9 <= gap <= want + 0.25, f"gaps {gaps.round(3)} vs {expected}"


def test_probe_cuts_a_long_backoff_short_once_the_camera_answers(
    readers: list[CameraReader],
) -> None:
    src = FlakySource(fail_opens=1, probe_result=False)
    bus = EventBus()
    log = StatusLog(bus)
    reader = start_reader(readers, src, bus, "back", backoff_initial_s=20, probe_interval_s=0.1)
    log.wait_for("offline", timeout=5)
    threading.Event().wait(0.5)
    src.probe_result = True  # the camera is back
    t_back = time.monotonic()
    log.wait_for("live", timeout=3)
    assert time.monotonic() - t_back < 1.0
    assert reader.wait_for_frame(-1, timeout=2) is not None


def test_auth_failure_is_not_hammered_even_if_reachable(readers: list[CameraReader]) -> None:
    src = FlakySource(kind="auth_failed", probe_result=True)
    bus = EventBus()
    log = StatusLog(bus)
    start_reader(readers, src, bus, "locked", backoff_initial_s=0.05, probe_interval_s=0.05)
    failed = log.wait_for("auth_failed", timeout=5)
    threading.Event().wait(1.0)
    readers[0].stop()
    assert len(src.open_times) == 1, "a wrong password is tried again only every 10 min"
    assert "next try in 10 min" in failed.message


def test_a_wrong_password_is_tried_again_after_auth_retry_s(readers: list[CameraReader]) -> None:
    src = FlakySource(kind="auth_failed", probe_result=True)
    start_reader(readers, src, EventBus(), "locked", backoff_initial_s=0.05, auth_retry_s=0.3)
    threading.Event().wait(1.0)
    readers[0].stop()
    gaps = np.diff(src.open_times)
    assert 2 <= len(src.open_times) <= 5 and (gaps >= 0.25).all(), src.open_times


def test_a_file_that_is_not_a_video_is_not_retried_at_once(
    readers: list[CameraReader], tmp_path: Path
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    src = FileSource(text, loop=True, realtime=True)
    opens: list[float] = []
    real_open = src.open

    def counted_open() -> None:
        opens.append(time.monotonic())
        real_open()

    src.open = counted_open  # type: ignore[method-assign]
    bus = EventBus()
    log = StatusLog(bus)
    start_reader(readers, src, bus, "notes", backoff_initial_s=0.05)
    failed = log.wait_for("offline", timeout=5)
    threading.Event().wait(1.0)
    readers[0].stop()
    assert len(opens) == 1, "retrying cannot make a text file a video"
    assert "not a video file" in failed.message and "choose another file" in failed.message
    assert "next try in 10 min" in failed.message


def test_a_crashing_source_recovers_and_stop_is_prompt(readers: list[CameraReader]) -> None:
    src = FlakySource(fail_opens=0)
    bus = EventBus()
    log = StatusLog(bus)
    reader = start_reader(readers, src, bus, "crashy", backoff_initial_s=0.1)
    log.wait_for("live", timeout=5)
    mark = log.mark()
    src.explode = True
    log.wait_for("offline", timeout=5, since=mark)
    assert reader.running, "an exception in read() must not kill the reader thread"
    src.explode = False
    log.wait_for("live", timeout=5, since=mark)
    t0 = time.monotonic()
    reader.stop()
    assert time.monotonic() - t0 < 1.0 and not reader.running


# ---- offline clips ------------------------------------------------------------------------------


def test_iter_video_reads_every_frame_in_order() -> None:
    info = probe_video(PETS_CLIP)
    assert (info.fps, info.frame_count, info.width, info.height) == (10.0, 795, 480, 360)
    frames = list(iter_video(PETS_CLIP, start_ts=1000.0))
    assert [f.index for f in frames] == list(range(795))
    assert frames[-1].t == pytest.approx(79.4) and frames[-1].ts == pytest.approx(1079.4)
    assert frames[0].image.shape == (360, 480, 3) and frames[0].image.dtype == np.uint8
    assert not np.array_equal(frames[0].image, frames[100].image)
    half = [f.index for f in iter_video(PETS_CLIP, fps=5)]
    assert half == list(range(0, 795, 2))
    assert [f.index for f in iter_video(PETS_CLIP, every_n=4)] == list(range(0, 795, 4))
    with pytest.raises(ValueError):
        next(iter_video(PETS_CLIP, fps=5, every_n=2))


def test_a_text_file_is_not_a_video_though_ffmpeg_draws_it(tmp_path: Path) -> None:
    # FFmpeg's tty demuxer opens .txt files and renders them as ANSI art frames
    notes = tmp_path / "readme.txt"
    notes.write_text("Opening hours: 9 to 19\n" * 200)
    assert cv2.VideoCapture(str(notes), cv2.CAP_FFMPEG).isOpened()  # what FFmpeg does
    with pytest.raises(VideoError, match="not a video file"):
        probe_video(notes)
    with pytest.raises(CameraError, match="not a video file") as err:
        FileSource(notes, loop=True, realtime=True).open()
    assert not err.value.retry_soon


def test_bad_video_files_raise_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    for call in (lambda: probe_video(text), lambda: list(iter_video(text))):
        with pytest.raises(VideoError) as err:
            call()
        assert str(err.value) == f"cannot open {text}: not a video file or unsupported codec"
    data = PETS_CLIP.read_bytes()
    stub = tmp_path / "stub.avi"
    stub.write_bytes(data[:20_000])  # header intact, almost no video
    with pytest.raises(VideoError, match=r"truncated or corrupt.*of 795"):
        list(iter_video(stub))
    half = tmp_path / "half.avi"
    half.write_bytes(data[: len(data) // 2])
    got: list[int] = []
    with pytest.raises(
        VideoError, match=r"truncated or corrupt video: decoding stopped at frame \d+ of 795"
    ):
        for f in iter_video(half):
            got.append(f.index)
    assert 100 < len(got) < 795, "the readable part is still delivered before the error"
    assert len(list(iter_video(half, strict=False))) == len(got)
    with pytest.raises(VideoError, match="no such file"):
        probe_video(tmp_path / "missing.mp4")
    with pytest.raises(VideoError, match="not a file"):
        probe_video(tmp_path)


# ---- a real RTSP camera -----------------------------------------------------------------------


def test_rtsp_camera_goes_live_over_tcp_at_source_rate(
    rtsp_server: RtspServer, readers: list[CameraReader]
) -> None:
    # the server only offers TCP transport, so frames arriving prove TCP is used
    bus = EventBus()
    log = StatusLog(bus)
    reader = start_reader(readers, RtspSource(rtsp_server.url), bus, "door")
    log.wait_for("live", timeout=10)
    assert log.seen()[0] == "connecting"
    first = reader.wait_for_frame(-1, timeout=5)
    assert first is not None and first.image.shape == (360, 480, 3)
    threading.Event().wait(1.0)  # let the initial burst of buffered frames pass
    seen = frames_within(reader, 3.0)
    assert 20 <= len(seen) <= 40, f"{len(seen)} frames in 3 s from a 10 fps camera"
    assert 8.0 <= reader.source_fps <= 12.5
    assert seen == sorted(seen)
    wrong = RtspSource(rtsp_server.url.replace("/cam", "/nope"))
    with pytest.raises(CameraError, match=r"/nope: no stream at this path \(404 Not Found\)"):
        wrong.open()


def test_rtsp_store_size_streams_decode_on_one_thread_bigger_ones_on_ffmpegs(
    rtsp_server: RtspServer,
) -> None:
    """A 480x360 stream is decoded on one thread (FFmpeg's frame threads cost CPU the
    inference needs); a stream above the size limit (here lowered to 100 pixels) is
    reopened with FFmpeg's own decoding threads, and still delivers frames."""
    small = RtspSource(rtsp_server.url)
    small.open()
    try:
        assert small.decoder_threads == 1
        image = small.read()
        assert image is not None and image.shape == (360, 480, 3)
    finally:
        small.close()
    big = RtspSource(rtsp_server.url)
    big.single_thread_max_px = 100
    big.open()
    try:
        assert big.decoder_threads == min(16, os.cpu_count() or 1)  # OpenCV's default
        image = big.read()
        assert image is not None and image.shape == (360, 480, 3)
    finally:
        big.close()


def test_rtsp_kill_and_restart_reconnects_within_5_s(
    rtsp_server: RtspServer, readers: list[CameraReader]
) -> None:
    bus = EventBus()
    log = StatusLog(bus)
    reader = start_reader(readers, RtspSource(rtsp_server.url), bus, "entrance")
    log.wait_for("live", timeout=10)
    assert len(frames_within(reader, 1.0)) >= 5
    mark = log.mark()
    rtsp_server.kill()
    lost = log.wait_for(("offline", "stalled"), timeout=8, since=mark)
    assert lost.camera == "entrance"
    threading.Event().wait(10.0)  # a 10 s outage: the backoff has grown past 5 s by now
    assert "live" not in log.seen(mark), log.history()
    assert reader.status == "offline", log.history()
    assert "connection refused" in reader.message, log.history()
    before = reader.frames_read
    rtsp_server.start()
    restarted = time.monotonic()
    log.wait_for("live", timeout=5, since=mark)
    back = time.monotonic() - restarted
    assert back < 5.0, f"live again {back:.1f} s after the restart"
    flowing = frames_within(reader, 2.0)
    assert len(flowing) >= 10, f"frames must flow again: {flowing}; {log.history()}"
    assert reader.frames_read > before and reader.reconnects >= 1


def test_frozen_rtsp_camera_is_stalled_then_recovers(
    rtsp_server: RtspServer, readers: list[CameraReader]
) -> None:
    bus = EventBus()
    log = StatusLog(bus)
    src = RtspSource(rtsp_server.url, read_timeout_s=2.0, open_timeout_s=3.0)
    reader = start_reader(readers, src, bus, "frozen", stall_after_s=2.0)
    log.wait_for("live", timeout=10)
    mark = log.mark()
    rtsp_server.freeze()
    t0 = time.monotonic()
    stalled = log.wait_for("stalled", timeout=8, since=mark)
    assert 1.5 <= time.monotonic() - t0 <= 4.5
    assert "no frame for" in stalled.message
    rtsp_server.thaw()
    log.wait_for("live", timeout=15, since=log.mark())
    assert reader.wait_for_frame(reader.frames_read - 1, timeout=5) is not None


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_rtsp_wrong_password_is_auth_failed_and_never_logged(
    auth: str,
    rtsp_server_factory: Callable[..., RtspServer],
    readers: list[CameraReader],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    server = rtsp_server_factory(user="viewer", password=PASSWORD, auth=auth)
    bus = EventBus()
    log = StatusLog(bus)
    bad = start_reader(readers, RtspSource(server.url, "viewer", WRONG), bus, "bad")
    failed = log.wait_for("auth_failed", timeout=10)
    assert failed.camera == "bad"
    assert "authentication failed: wrong user name or password" in failed.message
    assert f"127.0.0.1:{server.port}/cam" in failed.message
    assert bad.status == "auth_failed"
    none = RtspSource(server.url)
    with pytest.raises(CameraError, match="requires a user name and password") as err:
        none.open()
    assert err.value.kind == "auth_failed"
    good = start_reader(readers, RtspSource(server.url, "viewer", PASSWORD), bus, "good")
    frame = good.wait_for_frame(-1, timeout=10)
    assert frame is not None and good.status == "live"
    assert probe_stream(server.url, "viewer", PASSWORD).kind == "ok"
    assert probe_stream(server.url, "viewer", WRONG).kind == "auth_failed"
    out, errout = capfd.readouterr()
    logged = caplog.text + out + errout + " ".join(e.message for e in log.events)
    for secret in (WRONG, PASSWORD, "S3cr3t", "Wr0ng"):
        assert secret not in logged


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_rtsp_wrong_password_in_the_url_is_wrong_not_missing(
    auth: str,
    rtsp_server_factory: Callable[..., RtspServer],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # credentials typed into the URL count as given: a wrong one is "wrong", not "required"
    caplog.set_level(logging.DEBUG)
    server = rtsp_server_factory(user="viewer", password=PASSWORD, auth=auth)
    where = f"127.0.0.1:{server.port}/cam"
    wrong = f"rtsp://viewer:{quote(WRONG, safe='')}@{where}"
    with pytest.raises(CameraError) as err:
        RtspSource(wrong).open()
    assert err.value.kind == "auth_failed"
    assert err.value.message.startswith(
        f"rtsp://***@{where}: authentication failed: wrong user name or password (401"
    )
    good = RtspSource(f"rtsp://viewer:{quote(PASSWORD, safe='')}@{where}")
    try:
        good.open()
        assert good.read() is not None
    finally:
        good.close()
    assert probe_stream(good.url).kind == "ok"
    assert probe_stream(wrong).kind == "auth_failed"
    assert probe_stream(wrong, "viewer", PASSWORD).kind == "ok", "the settings win, as for FFmpeg"
    out, errout = capfd.readouterr()
    logged = caplog.text + out + errout + err.value.message
    for secret in (WRONG, PASSWORD, "S3cr3t", "Wr0ng"):
        assert secret not in logged


def test_url_credentials_are_decoded_and_count_as_given(mjpeg_server: MjpegServer) -> None:
    base = mjpeg_server.url.removeprefix("http://")
    good = f"http://viewer:{quote(PASSWORD, safe='')}@{base}"
    assert url_credentials(good) == ("viewer", PASSWORD)
    assert url_credentials(mjpeg_server.url) == ("", "")
    assert probe_stream(good).kind == "ok"
    assert probe_stream(f"http://viewer:{WRONG}@{base}").kind == "auth_failed"
    assert RtspSource(good).has_credentials and RtspSource(f"http://viewer@{base}").has_credentials
    assert RtspSource(mjpeg_server.url, "viewer").has_credentials
    assert not RtspSource(mjpeg_server.url).has_credentials


def test_http_mjpeg_camera_with_basic_auth(
    mjpeg_server: MjpegServer,
    readers: list[CameraReader],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    bus = EventBus()
    log = StatusLog(bus)
    cfg = CameraConfig(
        name="http", type="rtsp", url=mjpeg_server.url, username="viewer", password=PASSWORD
    )
    good = start_reader(readers, create_source(cfg), bus, "http")
    first = good.wait_for_frame(-1, timeout=10)
    assert first is not None and first.image.shape == (360, 480, 3)
    seen = frames_within(good, 2.0)
    assert 14 <= len(seen) <= 26, f"{len(seen)} frames in 2 s from a 10 fps camera"
    bad = start_reader(readers, RtspSource(mjpeg_server.url, "viewer", WRONG), bus, "bad")
    failed = log.wait_for("auth_failed", timeout=10)
    assert failed.camera == "bad" and "wrong user name or password (401" in failed.message
    assert bad.status == "auth_failed" and good.status == "live"
    out, err = capfd.readouterr()
    logged = caplog.text + out + err + log.history()
    assert PASSWORD not in logged and WRONG not in logged and "S3cr3t" not in logged


def test_unreachable_camera_is_offline_with_a_clear_message(
    readers: list[CameraReader], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()  # nothing listens there
    bus = EventBus()
    log = StatusLog(bus)
    t0 = time.monotonic()
    url = f"rtsp://admin:topsecret@127.0.0.1:{port}/cam"  # credentials typed into the URL
    start_reader(readers, RtspSource(url), bus, "gone")
    status = log.wait_for("offline", timeout=5)
    assert time.monotonic() - t0 < 3.0
    assert status.message == (
        f"rtsp://***@127.0.0.1:{port}/cam: cannot reach 127.0.0.1:{port} (connection refused)"
    )
    t1 = time.monotonic()
    readers[0].stop()
    assert time.monotonic() - t1 < 1.5, "stop() must not wait out the backoff"
    assert "topsecret" not in caplog.text
    src = RtspSource(url)
    assert src.scrub("error at rtsp://admin:topsecret@x") == "error at rtsp://admin:***@x"


def test_one_failing_camera_does_not_affect_another(
    rtsp_server: RtspServer, readers: list[CameraReader]
) -> None:
    bus = EventBus()
    good_log = StatusLog(bus, "good")
    bad_log = StatusLog(bus, "bad")
    good = start_reader(readers, RtspSource(rtsp_server.url), bus, "good")
    crashing = FlakySource(fail_opens=0)
    crashing.explode = True
    start_reader(
        readers,
        RtspSource(f"rtsp://127.0.0.1:{free_port()}/cam"),
        bus,
        "bad",
        backoff_initial_s=0.1,
    )
    start_reader(readers, crashing, bus, "crashy", backoff_initial_s=0.05)
    good_log.wait_for("live", timeout=10)
    bad_log.wait_for("offline", timeout=5)
    threading.Event().wait(1.0)
    seen = frames_within(good, 3.0)
    assert len(seen) >= 24, f"the healthy camera delivered only {len(seen)} frames in 3 s"
    # live at the first frame, then again with the rate measured on this connection
    assert good_log.seen() == ["connecting", "live", "live"]
    rated = good_log.events[-1]
    assert rated.message.endswith(" fps)") and 8.0 <= rated.source_fps <= 12.5, rated
    assert good.status == "live" and readers[1].status == "offline"


def test_a_camera_that_accepts_but_never_answers_is_called_hung_not_unreachable() -> None:
    """The port takes the connection (the kernel does, even for a frozen camera) and then
    nothing comes back: the network is fine, the camera is not."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # never accept()ed, never answered
    port = listener.getsockname()[1]
    try:
        url = f"rtsp://viewer:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/cam"
        r = probe_stream(url, timeout=0.5)
        assert (r.kind, r.reason) == ("no_answer", "no answer within 0.5 s")
        src = RtspSource(url, open_timeout_s=1.0, read_timeout_s=1.0, probe_timeout_s=0.5)
        with pytest.raises(CameraError) as exc:
            src.open()
        assert exc.value.kind == "offline"
        assert "accepts connections but the camera sent nothing" in exc.value.message
        assert "cannot reach" not in exc.value.message
        assert "S3cr3t" not in exc.value.message
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        # a one-letter password does not mangle the words around it
        ("rtsp://h:99999/x: not a valid rtsp:// camera URL", {"p"},
         "rtsp://h:99999/x: not a valid rtsp:// camera URL"),
        ("cannot open rtsp://admin:p@h/x", {"p"}, "cannot open rtsp://admin:***@h/x"),
        ("http://h/x?password=p&user=a", {"p"}, "http://h/x?password=***&user=a"),
        # a longer one is masked wherever it appears
        ("rtsp://admin:hunter9@h/x said hunter9", {"hunter9"}, "rtsp://admin:***@h/x said ***"),
        ("nothing secret here", {"hunter9"}, "nothing secret here"),
    ],
)
def test_scrub_masks_secrets_without_mangling_messages(
    text: str, secrets: set[str], expected: str
) -> None:
    from app.vision.camera_net import scrub_secrets

    assert scrub_secrets(text, secrets) == expected
