"""The reference HQ receiver: FastAPI over PostgreSQL.

POST /api/v1/batches   a store's gzip batch (headers: X-Vitrine-Store, Authorization:
                       Bearer <store key>, Idempotency-Key: <batch id>)
GET  /health           the receiver and its database
GET  /api/v1/stores    stores and when they last sent        (analyst token if set)
GET  /api/v1/daily     footfall and conversion per store/day (analyst token if set)
"""

from __future__ import annotations

import hmac
import logging
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app import __version__
from app.hq import auth, db, queries
from app.hq.ingest import IngestResult, ingest_batch
from app.hq.models import Store
from app.wire import PayloadError, check_version, decode_body, validate_envelope

log = logging.getLogger(__name__)

MAX_BODY = 4_000_000  # compressed bytes accepted per request (stores send <= 1 MB)
MAX_INFLATED = 32_000_000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _unauthorized(msg: str) -> HTTPException:
    return HTTPException(401, msg, headers={"WWW-Authenticate": "Bearer"})


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing store key: send 'Authorization: Bearer <store key>'")
    return token.strip()


def _authenticate(engine: Engine, store_id: str, key: str) -> None:
    with engine.connect() as conn:
        row = conn.execute(
            select(Store.key_hash, Store.disabled).where(Store.store_id == store_id)
        ).first()
    if row is None or not auth.key_matches(key, row.key_hash):
        raise _unauthorized("unknown store or wrong store key")
    if row.disabled:
        raise HTTPException(403, f"store {store_id!r} is disabled at HQ")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"batch larger than {limit} bytes; send at most 1 MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"batch larger than {limit} bytes; send at most 1 MB")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_batch(batch: dict[str, Any], store_id: str, idem_key: str | None) -> str:
    """Version, schema, store and key consistency; returns the batch key."""
    try:
        check_version(batch)
        validate_envelope(batch)
    except PayloadError as exc:
        raise HTTPException(422, str(exc)) from None
    if batch["store_id"] != store_id:
        raise HTTPException(
            403, f"this key belongs to store {store_id!r}, not {batch['store_id']!r}"
        )
    if idem_key is not None and idem_key != batch["batch_id"]:
        raise HTTPException(400, "Idempotency-Key header differs from the batch's batch_id")
    try:
        ZoneInfo(batch["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(422, f"unknown time zone {batch['timezone']!r}") from None
    return str(batch["batch_id"])


def create_app(
    engine: Engine,
    *,
    analyst_token: str | None = None,
    max_body: int = MAX_BODY,
    max_inflated: int = MAX_INFLATED,
) -> FastAPI:
    app = FastAPI(title="Vitrine HQ receiver", version=__version__)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error on %s: %s", request.url.path, exc.orig or exc)
        return JSONResponse(
            {"detail": "HQ's database is unavailable; nothing was stored, try again later"},
            503,
        )

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            rev = db.current_revision(engine)
        except OperationalError as exc:
            return JSONResponse(
                {"status": "error", "database": db.describe_db_error(engine, exc)}, 503
            )
        ok = rev == db.head_revision()
        body = {"status": "ok" if ok else "error", "database": "ok", "schema": rev}
        return JSONResponse(body, 200 if ok else 503)

    _add_upload_route(app, engine, max_body, max_inflated)
    _add_query_routes(app, engine, analyst_token)
    from app.hq import web  # the dashboard under /hq/ (app.hq.web)

    web.install(app, engine)
    return app


def _add_upload_route(app: FastAPI, engine: Engine, max_body: int, max_inflated: int) -> None:
    @app.post("/api/v1/batches")
    async def receive_batch(
        request: Request,
        x_vitrine_store: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        if not x_vitrine_store or not auth.STORE_ID_RE.match(x_vitrine_store):
            raise _unauthorized("missing or malformed X-Vitrine-Store header (the store id)")
        key = _bearer(authorization)
        await run_in_threadpool(_authenticate, engine, x_vitrine_store, key)
        try:
            body = await _read_body(request, max_body)
        except ClientDisconnect:
            log.warning("store %s: batch cut off mid-upload; nothing stored", x_vitrine_store)
            raise HTTPException(400, "batch cut off mid-upload; nothing stored") from None
        try:
            batch = decode_body(body, request.headers.get("content-encoding", ""), max_inflated)
        except PayloadError as exc:
            raise HTTPException(400, str(exc)) from None
        batch_key = _check_batch(batch, x_vitrine_store, idempotency_key)
        result: IngestResult = await run_in_threadpool(
            ingest_batch, engine, x_vitrine_store, batch, batch_key, len(body)
        )
        return result.as_json()


def _add_query_routes(app: FastAPI, engine: Engine, analyst_token: str | None) -> None:
    def analyst(authorization: Annotated[str | None, Header()] = None) -> None:
        if not analyst_token:
            return
        if not hmac.compare_digest(_bearer(authorization), analyst_token):
            raise _unauthorized("wrong analyst token")

    @app.get("/api/v1/stores", dependencies=[Depends(analyst)])
    def stores() -> list[dict[str, Any]]:
        return [
            {
                "store_id": s.store_id,
                "name": s.name,
                "timezone": s.timezone,
                "last_batch_at": s.last_batch_at.isoformat() if s.last_batch_at else None,
                "disabled": s.disabled,
            }
            for s in auth.list_stores(engine)
        ]

    @app.get("/api/v1/daily", dependencies=[Depends(analyst)])
    def daily(
        date_from: Annotated[date, Query(description="first local day, YYYY-MM-DD")],
        date_to: Annotated[date, Query(description="last local day, YYYY-MM-DD")],
        store_id: Annotated[str | None, Query(pattern=auth.STORE_ID_RE.pattern)] = None,
    ) -> list[dict[str, Any]]:
        """Footfall, sales, conversion and service conversion per store per local day."""
        for d in (date_from, date_to):
            if not FIRST_DAY <= d <= LAST_DAY:
                raise HTTPException(422, f"{d} is outside {FIRST_DAY} .. {LAST_DAY}")
        if date_to < date_from:
            raise HTTPException(422, "date_to is before date_from")
        if (date_to - date_from).days > 400:
            raise HTTPException(422, "ask for at most 400 days at a time")
        return [f.as_json() for f in queries.daily(engine, date_from, date_to, store_id)]
