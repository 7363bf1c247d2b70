"""The LAN server for salesperson tablets: a FastAPI app served by uvicorn in a
background thread, HTTPS with the store's self-signed certificate unless plain HTTP is
allowed.

    server = LanServer(store, bus, cfg.lan, store_name=cfg.store.name)
    server.start()             # returns once the socket listens
    code = server.new_pairing_code(); server.pairing_url(code)
    ...
    server.stop()              # ends the live streams, stops uvicorn, joins the thread
"""

from __future__ import annotations

import gc
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.config import LanConfig
from app.events import EventBus
from app.paths import RESOURCES_DIR, data_dir
from app.sync import pos
from app.sync.lan import admin, api, webhook
from app.sync.lan.auth import PairingCode, PairingCodes, RateLimiter
from app.sync.lan.guard import AllowHeader, BodyLimit, PairingGuard, Rejections
from app.sync.lan.live import LiveHub
from app.sync.lan.service import DeviceInfo, TabletService
from app.sync.lan.tls import CertInfo, ensure_certificate, local_names, renewal_due
from app.sync.store_protocol import StoreLike

log = logging.getLogger(__name__)

TABLET_DIR = RESOURCES_DIR / "tablet"
RENEW_CHECK_S = 6 * 3600.0  # how often a running server checks its certificate
DESCRIPTION = """The API of the Vitrine tablet app on the store LAN.

Every route needs `Authorization: Bearer <token>` (from pairing), except pairing itself
(needs the short pairing code shown on the desktop) and the POS webhook (needs an
HMAC-SHA256 signature: header `X-Vitrine-Signature: sha256=<hex>` over
`<X-Vitrine-Timestamp>.<raw body>` with the store's webhook secret; the timestamp must be
within 5 minutes; the body is `application/json`). Writes are idempotent: sessions by their client-made id, scans by
their idempotency key, purchases by transaction id.

Limits: request bodies of at most 256 KB (413); 10 wrong pairing codes per client in 5
minutes, or 30 from everyone in a minute, answer 429 with `Retry-After`; a pairing code
pairs one tablet.
"""


_CSP = (
    b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
    b"connect-src 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Plain ASGI middleware (no per-request task like BaseHTTPMiddleware): no caching of
    API answers, a strict content security policy for the tablet app, and on API answers
    a `Server-Timing: app;dur=<ms>` header (time in the app, from the request to its
    answer: what a slow tablet's browser tools, or bench/bench_tablets.py, tell apart
    from the network)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api_call = scope["path"].startswith("/api/")
        t0 = time.perf_counter()

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if api_call:
                    ms = (time.perf_counter() - t0) * 1000.0
                    extra.append((b"cache-control", b"no-store"))
                    extra.append((b"server-timing", b"app;dur=%.2f" % ms))
                else:
                    extra += [(b"cache-control", b"no-cache"), (b"content-security-policy", _CSP)]
                headers += [(k, v) for k, v in extra if k not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _admin_route(app: FastAPI, token: str, new_code: Callable[[], dict[str, Any]]) -> None:
    """`POST /api/v1/admin/pairing-code`: a new pairing code, for `sales pair` on this
    machine (loopback only, with the token of `app.sync.lan.admin`; not published)."""

    @app.post("/api/v1/admin/pairing-code", include_in_schema=False)
    async def pairing_code(request: Request) -> JSONResponse:
        host = request.client.host if request.client else None
        if not admin.allowed(host, request.headers.get(admin.ADMIN_HEADER), token):
            log.warning("admin request refused from %s", host)
            return JSONResponse({"detail": "not allowed"}, status_code=403)
        return JSONResponse(new_code())


def create_app(
    service: TabletService,
    pool: ThreadPoolExecutor,
    *,
    link_window_s: float = 7200.0,
    tablet_dir: Path = TABLET_DIR,
    admin_token: str | None = None,
    new_code: Callable[[], dict[str, Any]] | None = None,
    rejections: Rejections | None = None,
    ca_path: Callable[[], Path | None] = lambda: None,
) -> FastAPI:
    """The ASGI app (also usable in-process by tests: `httpx.ASGITransport(app)`)."""
    app = FastAPI(
        title="Vitrine tablet API",
        version="1",
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx = api.Ctx(service, pool)
    api.install_error_handler(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(AllowHeader, methods_of=lambda path: _methods_of(app, path))
    app.add_middleware(SecurityHeaders)
    app.include_router(api.pairing_router())
    app.include_router(api.tablet_router())
    app.include_router(api.sessions_router())
    webhook.add_route(app, service, link_window_s, rejections or Rejections())
    _openapi_with_components(app)
    if admin_token is not None and new_code is not None:
        _admin_route(app, admin_token, new_code)

    @app.get("/ca.crt", include_in_schema=False)
    async def store_ca() -> Response:
        """The store's CA certificate, for a tablet to install (public, not a secret)."""
        path = ca_path()
        if path is None or not path.is_file():
            return JSONResponse({"detail": "this server has no certificate"}, status_code=404)
        return Response(path.read_bytes(), media_type="application/x-x509-ca-cert")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/tablet/")

    if tablet_dir.is_dir():
        app.mount("/tablet", StaticFiles(directory=tablet_dir, html=True), name="tablet")
    return app


def _method_table(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    """(path pattern, methods) of every operation the published document lists."""
    table = []
    for path, ops in app.openapi()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        table.append((pattern, sorted(m.upper() for m in ops if m != "parameters")))
    return table


def _methods_of(app: FastAPI, path: str) -> list[str]:
    """The documented methods of `path` (for a 405's `Allow`), from the OpenAPI document."""
    table = getattr(app.state, "method_table", None)
    if table is None:
        table = app.state.method_table = _method_table(app)
    return next((methods for pattern, methods in table if pattern.match(path)), [])


def _openapi_with_components(app: FastAPI) -> None:
    """The published document defines the schemas the webhook's body refers to."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            webhook.add_components(default())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class LanServer:
    """The tablet server, started and stopped with the engine."""

    def __init__(
        self,
        store: StoreLike,
        bus: EventBus | None,
        cfg: LanConfig | None = None,
        *,
        store_name: str = "Vitrine",
        port: int | None = None,
        host: str | None = None,
        cert_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg or LanConfig()
        self.store, self.bus = store, bus
        self.host = host or self.cfg.host
        self._want_port = self.cfg.port if port is None else port
        self._cert_dir = cert_dir
        self.hub = LiveHub(clock=clock)
        self.codes = PairingCodes(clock=clock)
        self.limiter = RateLimiter(clock=clock)
        self.guard = PairingGuard(clock=clock)
        self.rejections = Rejections(clock=clock)
        self._clock = clock
        self._renew_stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.service = TabletService(
            store,
            self.hub,
            store_name=store_name,
            link_window_s=self.cfg.link_window_min * 60.0,
            codes=self.codes,
            limiter=self.limiter,
            guard=self.guard,
            clock=clock,
        )
        self.cert: CertInfo | None = None
        self.port = 0
        self._pool: ThreadPoolExecutor | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._admin_token = secrets.token_urlsafe(24)
        self._admin_dir: Path | None = None

    @property
    def scheme(self) -> str:
        return "http" if self.cfg.allow_http else "https"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        if not self.cfg.allow_http:
            self.cert = ensure_certificate(
                self._cert_dir or data_dir() / "tls", self.service.store_name, now=self._clock()
            )
        pos.webhook_secret(self.store)  # made now: a webhook request only ever reads it
        self._sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by accepted connections: no 40 ms Nagle/delayed-ACK stall between a
        # response's headers and its body
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._sock.bind((self.host, self._want_port))
        except OSError as exc:
            self._sock.close()
            raise OSError(
                f"cannot listen on {self.host}:{self._want_port} ({exc.strerror}): "
                "is another program using this port?"
            ) from None
        self.port = self._sock.getsockname()[1]
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lan-db")
        app = create_app(
            self.service,
            self._pool,
            link_window_s=self.cfg.link_window_min * 60,
            admin_token=self._admin_token,
            new_code=self._new_code_json,
            rejections=self.rejections,
            ca_path=lambda: self.cert.ca_path if self.cert else None,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
            ssl_certfile=str(self.cert.cert_path) if self.cert else None,
            ssl_keyfile=str(self.cert.key_path) if self.cert else None,
        )
        self._server = uvicorn.Server(config)
        if self.bus is not None:
            self.hub.attach(self.bus)
        try:
            seeded = self.hub.seed(self.service.present_customers())
            log.info("%s customers still in their zones", seeded)
        except Exception as exc:  # an unreadable history must not stop the tablets
            log.warning("could not reload the customers present: %s", exc)
        # What is alive now (modules, models, the app, the store's metadata) stays for as
        # long as the server: keep it out of the cyclic GC's sight, so that a full
        # collection walks only newer objects instead of stalling every request for
        # ~150 ms (bench/bench_tablets.py on the shared 2-core machine). `stop()` undoes it.
        gc.collect()
        gc.freeze()
        self._thread = threading.Thread(target=self._serve, name="vitrine-lan-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the LAN server did not start in time")
            time.sleep(0.01)
        if not self._thread.is_alive():
            self.stop()
            raise OSError("the LAN server stopped at once (see the log)")
        log.info("LAN server listening on %s", self.url)
        if self.cert is not None:
            self._renew_stop.clear()
            self._renewer = threading.Thread(
                target=self._renew_loop, name="vitrine-lan-cert", daemon=True
            )
            self._renewer.start()
        self._admin_dir = data_dir()
        try:
            admin.write_admin_file(
                self._admin_dir, admin.AdminInfo(self.port, self.scheme, self._admin_token)
            )
        except OSError as exc:  # tablets work without it; only `sales pair` needs it
            log.warning("could not write %s: %s", admin.ADMIN_FILE, exc)

    def _new_code_json(self) -> dict[str, Any]:
        code = self.new_pairing_code()
        return {"code": code.code, "url": self.pairing_url(code), "expires_at": code.expires_at}

    def _serve(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except Exception:
            log.exception("LAN server crashed")

    def renew_certificate(self) -> bool:
        """Make the certificate again if it is due (see `tls`) and serve it to new
        connections at once, without a restart; True if it was renewed."""
        if self.cert is None or not renewal_due(self.cert, self._clock()):
            return False
        cert = ensure_certificate(
            self.cert.cert_path.parent, self.service.store_name, now=self._clock()
        )
        ctx = self._server.config.ssl if self._server is not None else None
        if ctx is not None:
            ctx.load_cert_chain(str(cert.cert_path), str(cert.key_path))
        self.cert = cert
        log.info("LAN certificate renewed, valid until %s", time.ctime(cert.not_after))
        return cert.created

    def _renew_loop(self, every_s: float = RENEW_CHECK_S) -> None:
        while not self._renew_stop.wait(every_s):
            try:
                self.renew_certificate()
            except Exception as exc:  # try again at the next check
                log.warning("could not renew the LAN certificate: %s", exc)

    def stop(self, timeout: float = 10.0) -> None:
        self._renew_stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout)
            self._renewer = None
        if self._admin_dir is not None:
            admin.remove_admin_file(self._admin_dir, self._admin_token)
            self._admin_dir = None
        gc.unfreeze()
        self.hub.detach()
        self.hub.close_all()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("LAN server did not stop within %.0f s", timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._server = None

    # --- what the desktop uses --------------------------------------------------------

    @property
    def advertised_host(self) -> str:
        if self.host not in ("0.0.0.0", "::", ""):
            return self.host
        names, ips = local_names()
        lan = [i for i in ips if not i.startswith("127.") and ":" not in i]
        return lan[0] if lan else "127.0.0.1"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.advertised_host}:{self.port}"

    @property
    def local_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def new_pairing_code(self) -> PairingCode:
        return self.codes.issue()

    def cancel_pairing_code(self, code: str) -> None:
        self.codes.revoke(code)

    def pairing_url(self, code: PairingCode | str) -> str:
        c = code.code if isinstance(code, PairingCode) else code
        return f"{self.url}/tablet/#pair={c}"

    def devices(self, include_revoked: bool = False) -> list[DeviceInfo]:
        return self.service.devices(include_revoked)

    def revoke_device(self, device_id: str) -> bool:
        return self.service.revoke(device_id)

    def webhook_url(self) -> str:
        return f"{self.url}/api/v1/pos/webhook"

    def webhook_secret(self) -> str:
        return pos.webhook_secret(self.store)
