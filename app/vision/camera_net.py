"""IP cameras (RTSP, HTTP): opening over TCP with short timeouts, credentials that are
never logged, and telling "wrong password" apart from "offline".

OpenCV's FFmpeg backend reads the stream. It takes FFmpeg options only from the
process-wide `OPENCV_FFMPEG_CAPTURE_OPTIONS` variable, so the first RTSP open adds
`rtsp_transport;tcp` (and a 1 s `analyzeduration`, which cuts opening from ~5 s to ~1 s)
to it, keeping anything the user set. Open and read timeouts are per capture
(`CAP_PROP_OPEN_TIMEOUT_MSEC` / `CAP_PROP_READ_TIMEOUT_MSEC`), so a dead camera costs
seconds, not FFmpeg's 30 s default.

OpenCV only says "could not open". To say why, `open()` first checks that the TCP port
accepts a connection (else: offline, with the socket error), and after a failed open
sends its own `DESCRIBE` (RTSP) or `GET` (HTTP), with Basic or Digest credentials (the
settings', else those typed into the URL) as the server asks: 401 means auth_failed, 404 a
wrong stream path. The credentials go into the URL handed to FFmpeg and into those probe
requests only; every message passes through `redact()`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Literal
from urllib.parse import (
    SplitResult,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urlsplit,
    urlunsplit,
)

import cv2
import numpy as np

from app.config import CameraConfig
from app.vision.camera_sources import CameraError, CameraSource

FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_DEFAULT_FFMPEG_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "1000000"}
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
_SECRET_PARAMS = re.compile(r"^(pass(word|wd)?|pwd|token|key|auth|secret|sig(nature)?)$", re.I)
_env_lock = threading.Lock()


def redact(url: str) -> str:
    """The URL with its user name, password and secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAMS.match(k) else v) for k, v in pairs])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


# A stream up to this many pixels is decoded on one thread: FFmpeg's frame threads cost
# ~50 % more CPU per frame at store-camera sizes (480x360 H.264: 0.88 against 0.58 ms)
# for the same speed, CPU the cameras' inference needs. A bigger stream (a 4K main
# stream) keeps FFmpeg's threads so that its decoding keeps up with the camera.
SINGLE_THREAD_MAX_PX = 1920 * 1088
MIN_FREE_SCRUB = 4  # secrets this long are masked wherever they appear in a message


def scrub_secrets(text: str, secrets: set[str]) -> str:
    """`text` with every secret masked: in a URL's user info (`user:SECRET@`) or after
    `password=` always; elsewhere only when it is at least `MIN_FREE_SCRUB` characters
    long, so that a short password ("p") does not mangle the message ("rts***://")."""
    for secret in sorted(secrets, key=len, reverse=True):
        s = re.escape(secret)
        text = re.sub(rf"(?<=:){s}(?=@)", "***", text)
        text = re.sub(rf"(?i)\b(pass|passwd|password|pwd)={s}(?=[&\s]|$)", r"\1=***", text)
        if len(secret) >= MIN_FREE_SCRUB:
            text = text.replace(secret, "***")
    return text


def url_credentials(url: str) -> tuple[str, str]:
    """The user name and password typed into the URL, percent-decoded ("" when absent)."""
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or "")


def with_credentials(url: str, username: str, password: str) -> str:
    """The URL with percent-encoded credentials in it (for opening only, never logging)."""
    if not username and not password:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def ensure_ffmpeg_options() -> None:
    """Add TCP transport and a short analyzeduration to FFmpeg's capture options."""
    with _env_lock:
        current = os.environ.get(FFMPEG_OPTIONS_ENV, "")
        pairs = [p.split(";", 1) for p in current.split("|") if ";" in p]
        opts = {k: v for k, v in pairs}
        merged = {**_DEFAULT_FFMPEG_OPTIONS, **opts}
        if merged != opts:
            os.environ[FFMPEG_OPTIONS_ENV] = "|".join(f"{k};{v}" for k, v in merged.items())


def _host_port(parts: SplitResult) -> tuple[str, int]:
    host = parts.hostname or ""
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 554)
    except ValueError:  # a port that is not a number
        port = 0
    return host, port


def tcp_error(host: str, port: int, timeout: float) -> str | None:
    """None if host:port accepts a TCP connection, else why not (one short phrase)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return tcp_reason(exc, timeout)


def tcp_reason(exc: OSError, timeout: float) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    return exc.strerror or type(exc).__name__


ProbeKind = Literal["ok", "offline", "no_answer", "auth_failed", "not_found", "error"]


@dataclass(frozen=True)
class ProbeResult:
    kind: ProbeKind
    status: int = 0  # RTSP/HTTP status code of the last answer (0: none)
    reason: str = ""


def _auth_header(
    challenges: list[str], method: str, uri: str, username: str, password: str
) -> str | None:
    """An Authorization header value answering the server's strongest challenge."""
    digest = next((c for c in challenges if c.lower().startswith("digest")), None)
    if digest is None:
        if not any(c.lower().startswith("basic") for c in challenges):
            return None
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return f"Basic {token}"
    params = {
        m[0].lower(): m[1] if m[1] else m[2]
        for m in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', digest[6:])
    }
    realm, nonce = params.get("realm", ""), params.get("nonce", "")

    def md5(s: str) -> str:
        return hashlib.md5(s.encode(), usedforsecurity=False).hexdigest()

    ha1 = md5(f"{username}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    fields = f'username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
    if "opaque" in params:
        fields += f', opaque="{params["opaque"]}"'
    return f'Digest {fields}, response="{response}", algorithm=MD5'


@dataclass
class _Answer:
    status: int  # 0: no parseable answer
    reason: str
    challenges: list[str]  # WWW-Authenticate values
    reusable: bool  # the connection can carry another request


def _exchange(sock: socket.socket, request: str) -> _Answer:
    """Send one request and read the answer's head (and a short body, so that the
    connection can be reused for the authenticated retry)."""
    sock.sendall(request.encode())
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^(RTSP|HTTP)/(\d\.\d) (\d{3}) ?(.*)$", lines[0])
    if not m:
        return _Answer(0, "no valid answer", [], False)
    headers = [ln.split(":", 1) for ln in lines[1:] if ":" in ln]
    fields: dict[str, list[str]] = {}
    for k, v in headers:
        fields.setdefault(k.strip().lower(), []).append(v.strip())
    length = int((fields.get("content-length") or ["0"])[0] or 0)
    while len(body) < length <= 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    closing = "close" in ",".join(fields.get("connection", [])).lower()
    reusable = not closing and (m.group(1) == "RTSP" or m.group(2) == "1.1")
    return _Answer(int(m.group(3)), m.group(4), fields.get("www-authenticate", []), reusable)


def _connect(parts: SplitResult, timeout: float) -> socket.socket:
    host, port = _host_port(parts)
    raw = socket.create_connection((host, port), timeout=timeout)
    if parts.scheme not in ("https", "rtsps"):
        return raw
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # cameras use self-signed certificates
    return ctx.wrap_socket(raw, server_hostname=host)


def _classify(answer: _Answer) -> ProbeResult:
    status, reason = answer.status, answer.reason
    if status == 0:
        return ProbeResult("error", 0, reason)
    if 200 <= status < 300:
        return ProbeResult("ok", status, reason)
    if status in (401, 403):
        return ProbeResult("auth_failed", status, reason)
    if status == 404:
        return ProbeResult("not_found", status, reason)
    return ProbeResult("error", status, reason)


def probe_stream(
    url: str, username: str = "", password: str = "", timeout: float = 3.0
) -> ProbeResult:
    """Ask the camera for the stream the way a player would (RTSP DESCRIBE / HTTP GET),
    answering a 401 challenge once with the credentials (`username`/`password`, else those
    in the URL, as `with_credentials` picks them for FFmpeg); classify the outcome."""
    if not (username or password):
        username, password = url_credentials(url)
    parts = urlsplit(url)
    rtsp = parts.scheme.startswith("rtsp")
    hostport = parts.netloc.rsplit("@", 1)[-1]
    bare = urlunsplit(parts._replace(netloc=hostport))
    method, target = ("DESCRIBE", bare) if rtsp else ("GET", parts.path or "/")
    if parts.query and not rtsp:
        target += "?" + parts.query

    def request(cseq: int, auth: str | None) -> str:
        if rtsp:
            req = f"DESCRIBE {target} RTSP/1.0\r\nCSeq: {cseq}\r\nAccept: application/sdp\r\n"
        else:
            req = f"GET {target} HTTP/1.1\r\nHost: {hostport}\r\n"
        req += "User-Agent: Vitrine\r\n" + (f"Authorization: {auth}\r\n" if auth else "")
        return req + "\r\n"

    try:
        sock = _connect(parts, timeout)
    except OSError as exc:
        return ProbeResult("offline", reason=tcp_reason(exc, timeout))
    try:
        answer = _exchange(sock, request(1, None))
        if answer.status != 401 or not (username or password):
            return _classify(answer)
        auth = _auth_header(answer.challenges, method, target, username, password)
        if auth is None:
            return ProbeResult("auth_failed", 401, "unsupported authentication scheme")
        if not answer.reusable:
            sock.close()
            sock = _connect(parts, timeout)
        return _classify(_exchange(sock, request(2, auth)))
    except TimeoutError:  # connected, then silence: the camera, not the network
        return ProbeResult("no_answer", reason=f"no answer within {timeout:g} s")
    except OSError as exc:
        return ProbeResult("offline", reason=tcp_reason(exc, timeout))
    finally:
        sock.close()


class RtspSource(CameraSource):
    """An RTSP or HTTP IP camera read by OpenCV's FFmpeg backend over TCP."""

    type = "rtsp"

    def __init__(
        self,
        url: str,
        username: str = "",
        password: str = "",
        *,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self.url = url
        self.username = username
        self._password = password
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.probe_timeout_s = probe_timeout_s
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0
        self.single_thread_max_px = SINGLE_THREAD_MAX_PX
        self.decoder_threads = 0  # FFmpeg's decoding threads of the open stream
        parts = urlsplit(url)
        in_url = parts.password or ""
        self._secrets = {password, quote(password, safe=""), in_url, unquote(in_url)} - {""}
        self._url_has_credentials = bool(parts.username or parts.password)
        self._host, self._port = _host_port(parts)
        self._scheme = parts.scheme.lower()

    def describe(self) -> str:
        return redact(self.url)

    def scrub(self, text: str) -> str:
        return scrub_secrets(text, self._secrets)

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def probe(self) -> bool | None:
        return bool(self._host) and tcp_error(self._host, self._port, 0.5) is None

    def _fail(self, kind: Literal["offline", "auth_failed"], why: str) -> CameraError:
        return CameraError(kind, f"{redact(self.url)}: {why}")

    @property
    def has_credentials(self) -> bool:
        """Credentials were given: in the user name / password settings or in the URL."""
        return bool(self.username or self._password or self._url_has_credentials)

    def open(self) -> None:
        self.close()
        if self._scheme not in _DEFAULT_PORTS or not self._host or not self._port:
            raise self._fail("offline", "not a valid rtsp:// or http:// camera URL")
        err = tcp_error(self._host, self._port, self.probe_timeout_s)
        if err:
            raise self._fail("offline", f"cannot reach {self._host}:{self._port} ({err})")
        ensure_ffmpeg_options()
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout_s * 1000),
        ]
        full = with_credentials(self.url, self.username, self._password)
        cap = cv2.VideoCapture(full, cv2.CAP_FFMPEG, [*params, cv2.CAP_PROP_N_THREADS, 1])
        if not cap.isOpened():
            cap.release()
            raise self._explain_failure()
        w, h = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
        if w * h > self.single_thread_max_px:  # reopened with FFmpeg's decoding threads
            cap.release()
            cap = cv2.VideoCapture(full, cv2.CAP_FFMPEG, params)
            if not cap.isOpened():
                cap.release()
                raise self._explain_failure()
        self.decoder_threads = int(cap.get(cv2.CAP_PROP_N_THREADS))
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 0 < fps <= 240 else 0.0

    def _explain_failure(self) -> CameraError:
        r = probe_stream(self.url, self.username, self._password, self.probe_timeout_s)
        detail = f"{r.status} {r.reason}".strip() if r.status else r.reason
        if r.kind == "auth_failed":
            if not self.has_credentials:
                return self._fail("auth_failed", "the camera requires a user name and password")
            return self._fail(
                "auth_failed", f"authentication failed: wrong user name or password ({detail})"
            )
        if r.kind == "offline":
            return self._fail("offline", f"cannot reach {self._host}:{self._port} ({detail})")
        if r.kind == "no_answer":
            return self._fail(
                "offline",
                f"{self._host}:{self._port} accepts connections but the camera sent nothing "
                f"({detail}): it may be busy or hung, restart it",
            )
        if r.kind == "not_found":
            return self._fail("offline", f"no stream at this path ({detail})")
        if r.kind == "ok":
            return self._fail(
                "offline", "the camera answered but the stream could not be opened or decoded"
            )
        return self._fail("offline", f"the camera refused the stream ({detail})")

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        return image if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def rtsp_from_config(cfg: CameraConfig) -> CameraSource:
    """An RTSP/HTTP source with the configured credentials."""
    return RtspSource(cfg.url, cfg.username, cfg.password.get_secret_value())
