"""The POS webhook route: cheap refusals first, the body last.

In order: a body over the size limit is refused unread (413, `guard.BodyLimit`); a body
that is not JSON (415); missing or stale signature headers (401, body unread); then the
body is read and its HMAC checked (401) before it is parsed (422) and the sale recorded.
A refused request writes nothing to the store: it is counted in memory and logged at
most once a minute (`guard.Rejections`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.sync import pos
from app.sync.lan import api
from app.sync.lan import schemas as sc
from app.sync.lan.guard import MAX_BODY_BYTES, Rejections
from app.sync.lan.service import TabletService

log = logging.getLogger(__name__)

PATH = "/api/v1/pos/webhook"
JSON_TYPES = ("application/json",)


def openapi_extra() -> dict[str, Any]:
    """The request body and headers, documented by hand (the route reads the raw body to
    check its signature before parsing). `$ref`s point into components.schemas, which
    `add_components` fills."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/WebhookPurchase"}}
            },
        },
        "parameters": [
            {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
            for name in (pos.TIMESTAMP_HEADER, pos.SIGNATURE_HEADER)
        ],
    }


def add_components(doc: dict[str, Any]) -> dict[str, Any]:
    """Define the webhook's body schemas in the OpenAPI document's components."""
    schema = sc.WebhookPurchase.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    comps = doc.setdefault("components", {}).setdefault("schemas", {})
    comps.update(defs)
    comps["WebhookPurchase"] = schema
    return doc


def _json_type(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype in JSON_TYPES


def _reject(rejections: Rejections, ip: str, reason: str, status: int = 401) -> JSONResponse:
    rejections.record(ip, reason)
    return JSONResponse({"detail": f"rejected: {reason}"}, status_code=status)


def add_route(
    app: FastAPI, service: TabletService, window_s: float, rejections: Rejections
) -> None:
    store = service.store

    @app.post(
        PATH,
        tags=["pos"],
        response_model=sc.WebhookResult,
        responses={
            401: {"model": sc.Problem, "description": "Missing, stale or wrong signature."},
            413: {"model": sc.Problem, "description": f"Body over {MAX_BODY_BYTES // 1024} KB."},
            415: {"model": sc.Problem, "description": "The body is not application/json."},
            422: {"model": sc.Problem, "description": "Signed, but not a valid purchase."},
        },
        openapi_extra=openapi_extra(),
        summary="A sale from the POS (signed; idempotent by transaction id)",
    )
    async def webhook(request: Request, c: api.AppCtx) -> Any:
        ip = request.client.host if request.client else "?"
        if not _json_type(request):
            return _reject(rejections, ip, "the body must be application/json", 415)
        stamp = request.headers.get(pos.TIMESTAMP_HEADER)
        signature = request.headers.get(pos.SIGNATURE_HEADER)
        now = service.now()
        try:
            pos.check_webhook_headers(stamp, signature, now)
        except pos.WebhookRejected as exc:
            return _reject(rejections, ip, str(exc))
        raw = await request.body()  # at most MAX_BODY_BYTES: guard.BodyLimit
        secret = await c.run(pos.read_webhook_secret, store)
        try:
            if secret is None:
                raise pos.WebhookRejected("this store has no webhook secret yet")
            pos.verify_webhook(secret, raw, stamp, signature, now)
        except pos.WebhookRejected as exc:
            return _reject(rejections, ip, str(exc))
        try:
            payload = sc.WebhookPurchase.model_validate_json(raw)
            problem = pos.sale_time_problem(payload.ts, now)
            if problem:
                raise ValueError(problem)
            return await c.run(pos.record_webhook, store, payload, window_s)
        except ValueError as exc:
            return JSONResponse({"detail": f"invalid purchase: {_why(exc)}"}, status_code=422)


def _why(exc: ValueError) -> str:
    """One line: the first problem of a validation error ('ts: Input should be ...')."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return f"{where}: {first.get('msg', 'invalid')}"[:200]
    return str(exc).splitlines()[0][:200]
