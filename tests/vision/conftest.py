"""Vision test fixtures: a real RTSP camera (GStreamer's RTSP server, run by the system
python3) serving the PETS clip on a free 127.0.0.1 port, that tests can kill, freeze
and restart on the same port; and a real HTTP MJPEG camera with Basic auth."""

from __future__ import annotations

import base64
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import pytest

from app.vision.video_io import iter_video
from tests.conftest import PETS_CLIP

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtspServer:
    """One `rtsp_server.py` process; `url` is rtsp://127.0.0.1:<port>/cam."""

    def __init__(
        self,
        log_dir: Path,
        port: int | None = None,
        *,
        user: str = "",
        password: str = "",
        auth: str = "basic",
    ) -> None:
        self.port = port or free_port()
        self.user, self.password, self.auth = user, password, auth
        self.log_path = log_dir / f"rtsp-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> RtspServer:
        cmd = [
            SYSTEM_PYTHON,
            str(SERVER_SCRIPT),
            "--port",
            str(self.port),
            "--clip",
            str(PETS_CLIP),
        ]
        if self.user:
            cmd += ["--user", self.user, "--password", self.password, "--auth", self.auth]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        with self.log_path.open("ab") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            if sel.select(timeout=0.2):
                line = self.proc.stdout.readline()
                break
        sel.close()
        if not line.startswith(b"READY"):
            self.kill()
            raise RuntimeError(f"RTSP server did not start: {self.log_tail()}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass  # it really listens
        return self

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def died(self) -> str | None:
        """Why the server exited on its own (None while it runs or after kill/stop)."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return (
            f"RTSP server on port {self.port} exited with {self.proc.returncode}: {self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: the camera vanishes without closing anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing more arrives."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        self.kill()


def _check_system_gstreamer() -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.fail(
            "the RTSP tests need GStreamer's RTSP server for /usr/bin/python3 "
            "(run scripts/install-system-deps.sh)"
        )


@pytest.fixture
def rtsp_server_factory(tmp_path: Path) -> Iterator[Callable[..., RtspServer]]:
    """Start RTSP servers (`factory(user=..., password=..., auth=...)`); all are stopped
    at the end of the test."""
    _check_system_gstreamer()
    servers: list[RtspServer] = []

    def factory(**kwargs: object) -> RtspServer:
        server = RtspServer(tmp_path, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield factory
    deaths = [d for s in servers if (d := s.died())]
    for s in servers:
        s.stop()
    assert not deaths, deaths


@pytest.fixture
def rtsp_server(rtsp_server_factory: Callable[..., RtspServer]) -> RtspServer:
    return rtsp_server_factory()


class MjpegServer:
    """An HTTP camera: multipart/x-mixed-replace JPEGs of the PETS clip at `fps`, behind
    Basic auth. Runs in this process; `stop()` ends the server and every stream."""

    def __init__(self, user: str, password: str, fps: float = 10.0, frames: int = 20) -> None:
        jpegs = []
        for f in iter_video(PETS_CLIP, strict=False):
            if f.index >= frames:
                break
            jpegs.append(cv2.imencode(".jpg", f.image)[1].tobytes())
        self._stop = threading.Event()
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        stop, period = self._stop, 1.0 / fps

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                with contextlib.suppress(OSError):
                    while not stop.is_set():
                        jpg = jpegs[i % len(jpegs)]
                        head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpg)}"
                        self.wfile.write(head.encode() + b"\r\n\r\n" + jpg + b"\r\n")
                        i += 1
                        if stop.wait(period):
                            break

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="mjpeg-server"
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    server = MjpegServer("viewer", "S3cr3t:p@ss/w%rd")
    yield server
    server.stop()
