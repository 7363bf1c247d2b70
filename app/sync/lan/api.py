"""The tablet API's routes (FastAPI). Blocking store work runs on the server's own
small thread pool; the live stream is server-sent events.

Authentication: `Authorization: Bearer <token>` from pairing on every route except the
two pairing routes (which need a valid pairing code) and the POS webhook (which needs
a valid HMAC signature).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.sync.lan import schemas as sc
from app.sync.lan.service import ApiError, DeviceCtx, TabletService

log = logging.getLogger(__name__)

T = TypeVar("T")
KEEPALIVE_S = 15.0
REAUTH_S = 5.0  # how often an open live stream re-checks its tablet's token
ZONE = Annotated[str, Path(min_length=1, max_length=80)]
SESSION_ID = Annotated[str, Path(pattern=sc.ID_PATTERN)]
KEY = Annotated[str, Path(pattern=sc.KEY_PATTERN)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": sc.Problem, "description": "Missing, wrong or revoked token."},
    403: {"model": sc.Problem, "description": "Not allowed for this salesperson."},
}

PAIRING_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": sc.Problem, "description": "Wrong or expired pairing code, or wrong PIN."},
    429: {
        "model": sc.Problem,
        "description": "Too many wrong codes or PINs: try again after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
}

bearer = HTTPBearer(auto_error=False, description="The token received when pairing.")


class Ctx:
    """Per-app dependencies: the service and the blocking-work pool."""

    def __init__(self, service: TabletService, pool: ThreadPoolExecutor) -> None:
        self.service, self.pool = service, pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def write(self, job: Callable[[Session], T], timeout: float = 60.0) -> T:
        """Run `job` in the store writer's transaction and await its COMMIT. The writer
        resolves the future straight into the event loop: no pool thread is woken and
        held just to wait (two thread hand-offs fewer per write)."""
        fut = self.service.store.writer.submit(job)
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)


def _ctx(request: Request) -> Ctx:
    ctx: Ctx = request.app.state.ctx
    return ctx


async def _ctx_dep(request: Request) -> Ctx:
    # async on purpose: FastAPI runs a plain `def` dependency on a worker thread, a
    # thread round trip on every request (17 % of the event loop's time under the bench)
    return _ctx(request)


async def device(
    request: Request,
    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> DeviceCtx:
    c = _ctx(request)
    token = cred.credentials if cred else None
    hit = c.service.cached_device(token)
    if hit is None:
        return await c.run(c.service.authenticate, token)
    if token and c.service.claim_refresh(token):
        with contextlib.suppress(RuntimeError):  # the server is stopping
            c.pool.submit(c.service.refresh, token)  # reloaded before it expires
    return hit


Device = Annotated[DeviceCtx, Depends(device)]
AppCtx = Annotated[Ctx, Depends(_ctx_dep)]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def pairing_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1/pairing", tags=["pairing"])

    @r.get(
        "",
        response_model=sc.PairingInfo,
        responses=PAIRING_ERRORS,
        summary="Salespeople to pick from (needs a valid pairing code)",
    )
    async def pairing_info(
        c: AppCtx, request: Request, code: Annotated[str, Query(min_length=4, max_length=16)]
    ) -> dict:
        people = await c.run(c.service.pairing_people, code, _client_ip(request))
        return {"store_name": c.service.store_name, "salespeople": people}

    @r.post(
        "",
        response_model=sc.PairResponse,
        responses=PAIRING_ERRORS,
        summary="Pair this device with a salesperson's PIN",
    )
    async def pair(c: AppCtx, body: sc.PairRequest, request: Request) -> dict:
        return await c.run(
            c.service.pair,
            body.code,
            body.salesperson_id,
            body.pin,
            body.label,
            _client_ip(request),
        )

    return r


def tablet_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["tablet"], responses=ERRORS)

    @r.get("/me", response_model=sc.Me, summary="Who this device is paired to")
    async def me(c: AppCtx, d: Device) -> dict:
        return {
            "device_id": d.device_id,
            "salesperson_id": d.salesperson_id,
            "salesperson_name": d.salesperson_name,
            "zones": sorted(d.zones),
            "store_name": c.service.store_name,
            "server_time": c.service.now(),
        }

    @r.get("/zones/{zone}/customers", response_model=sc.CustomerList, summary="Customers now")
    async def customers(c: AppCtx, d: Device, zone: ZONE) -> JSONResponse:
        c.service.check_zone(d, zone)
        body = {
            "zone": zone,
            "server_time": c.service.now(),
            "customers": [x.to_json() for x in c.service.hub.customers(zone)],
        }
        return JSONResponse(body)  # already the documented shape: skip re-validation

    @r.get(
        "/zones/{zone}/customers/{visitor_id}/crop",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}, 404: {"model": sc.Problem}},
        summary="The customer's picture (JPEG)",
    )
    async def crop(
        c: AppCtx, d: Device, zone: ZONE, visitor_id: Annotated[str, Path(max_length=36)]
    ) -> Response:
        c.service.check_zone(d, zone)
        if c.service.hub.customer(zone, visitor_id) is None:
            raise ApiError(404, "no such customer in this zone")
        jpeg = await c.run(c.service.crop, visitor_id)
        if not jpeg:
            raise ApiError(404, "no picture for this customer")
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private"})

    @r.get(
        "/zones/{zone}/events",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
        summary="Server-sent events: a snapshot, then arrive/update/leave messages",
    )
    async def events(
        c: AppCtx,
        d: Device,
        zone: ZONE,
        cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> StreamingResponse:
        c.service.check_zone(d, zone)
        token = cred.credentials if cred else ""
        return StreamingResponse(
            _event_stream(c.service, zone, lambda: _still_allowed(c, token, zone)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @r.get(
        "/me/services",
        response_model=sc.SessionList,
        summary="This salesperson's services since a time (the tablet's midnight)",
    )
    async def my_services(
        c: AppCtx,
        d: Device,
        since: Annotated[float | None, Query(ge=0, le=4102444800.0)] = None,
    ) -> dict:
        return {"sessions": await c.run(c.service.my_services, d, since)}

    @r.get(
        "/products/{barcode}",
        response_model=sc.ProductOut,
        responses={404: {"model": sc.Problem}},
        summary="A product of the catalog",
    )
    async def product(
        c: AppCtx, d: Device, barcode: Annotated[str, Path(pattern=sc.BARCODE_PATTERN)]
    ) -> dict:
        return await c.run(c.service.product, barcode)

    return r


def sessions_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1/sessions", tags=["services"], responses=ERRORS)
    nf: dict[int | str, dict[str, Any]] = {404: {"model": sc.Problem}, 409: {"model": sc.Problem}}
    scan_errors: dict[int | str, dict[str, Any]] = {
        **nf,
        409: {
            "model": sc.Problem,
            "description": "The service has ended, the key belongs to another service, or the "
            "code is neither a valid EAN/UPC nor in the catalogue and was not `confirmed`.",
        },
    }

    @r.get("", response_model=sc.SessionList, summary="This device's open services")
    async def open_sessions(c: AppCtx, d: Device) -> dict:
        return {"sessions": await c.run(c.service.open_sessions, d)}

    @r.post("", response_model=sc.SessionOut, responses=nf, summary="Start a service")
    async def start(c: AppCtx, d: Device, body: sc.StartSession) -> dict:
        return await c.run(c.service.start_session, d, body.id, body.zone, body.visitor_id, body.ts)

    @r.get("/{session_id}", response_model=sc.SessionOut, responses=nf, summary="A service")
    async def get(c: AppCtx, d: Device, session_id: SESSION_ID) -> dict:
        return await c.run(c.service.get_session, d, session_id)

    @r.post(
        "/{session_id}/scans",
        response_model=sc.ScanOut,
        responses=scan_errors,
        summary="Record an item shown (idempotent by key)",
    )
    async def scan(c: AppCtx, d: Device, session_id: SESSION_ID, body: sc.ScanIn) -> JSONResponse:
        job = c.service.scan_job(
            d, session_id, body.barcode, body.idempotency_key, body.ts, body.confirmed
        )
        return JSONResponse(await c.write(job))  # the documented shape: skip re-validation

    @r.delete(
        "/{session_id}/scans/{key}",
        response_model=sc.SessionOut,
        responses=nf,
        summary="Remove a wrong scan from an open service (idempotent); returns the service",
    )
    async def remove_scan(c: AppCtx, d: Device, session_id: SESSION_ID, key: KEY) -> dict:
        return await c.run(c.service.remove_scan, d, session_id, key)

    @r.put(
        "/{session_id}/outcome",
        response_model=sc.SessionOut,
        responses=nf,
        summary="Say how a service ended (outcome) and add a note",
    )
    async def outcome(c: AppCtx, d: Device, session_id: SESSION_ID, body: sc.OutcomeIn) -> dict:
        return await c.run(c.service.set_outcome, d, session_id, body.outcome, body.note)

    @r.post(
        "/{session_id}/end",
        response_model=sc.SessionOut,
        responses=nf,
        summary="End a service (idempotent); returns its summary",
    )
    async def end(
        c: AppCtx, d: Device, session_id: SESSION_ID, body: sc.EndSession | None = None
    ) -> dict:
        return await c.run(c.service.end_session, d, session_id, body.ts if body else None)

    return r


async def _still_allowed(c: Ctx, token: str, zone: str) -> bool:
    """Whether the stream's tablet may still see this zone (not revoked, zone kept)."""
    ctx = c.service.cached_device(token)
    if ctx is None:
        try:
            ctx = await c.run(c.service.authenticate, token)
        except ApiError:
            return False
    return zone in ctx.zones


async def _event_stream(
    service: TabletService, zone: str, allowed: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[str]:
    """A snapshot, then the zone's changes. Every REAUTH_S the tablet's token and zone
    are checked again: a revoked tablet's stream ends (its reconnection gets a 401)."""
    hub = service.hub
    stream = hub.open_stream(zone)
    checked = time.monotonic()
    try:
        snapshot = {
            "type": "snapshot",
            "zone": zone,
            "server_time": service.now(),
            "customers": [x.to_json() for x in hub.customers(zone)],
        }
        yield f"event: snapshot\ndata: {json.dumps(snapshot)}\n\n"
        waited = 0.0
        while True:
            if allowed is not None and time.monotonic() - checked >= REAUTH_S:
                if not await allowed():
                    log.info("live stream of zone %s ended: the tablet is no longer allowed", zone)
                    break
                checked = time.monotonic()
            try:
                msg = await asyncio.wait_for(stream.queue.get(), REAUTH_S)
            except TimeoutError:
                waited += REAUTH_S
                if waited >= KEEPALIVE_S:
                    waited = 0.0
                    yield ": keep-alive\n\n"
                continue
            if msg is None:
                break
            msg = {**msg, "server_time": service.now()}
            yield f"event: {msg['type']}\ndata: {json.dumps(msg)}\n\n"
    finally:
        hub.close_stream(stream)


def install_error_handler(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's "error parsing the body": a 422 like the rest
            problem = {"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}
            return JSONResponse({"detail": [problem]}, status_code=422)
        return await http_exception_handler(request, exc)
