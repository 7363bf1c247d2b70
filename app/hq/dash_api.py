"""The dashboard's JSON API under /hq/api/ (session cookie; POSTs also need the
X-CSRF-Token header, the token is in GET /hq/api/me), and the stores' one-time
enrolment POST /api/v1/enrol (authenticated by the provisioning file's token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.hq import auth, kpi_report, promotions, stores
from app.hq.web_kpis import selection
from app.hq.web_pages import hq_url
from app.hq.web_session import ApiSession, require_admin, store_for

if TYPE_CHECKING:
    from app.hq.web_session import Dash


class NewStore(BaseModel):
    store_id: str = Field(max_length=64)
    name: str = Field(max_length=120)
    timezone: str = Field("UTC", max_length=64)
    region: str = Field("", max_length=80)
    capacity: int | None = Field(None, ge=1, le=100_000)
    opening_hours: str = Field("", max_length=200)


class NewPromotion(BaseModel):
    kind: str = Field("promotion", max_length=16)
    title: str = Field(max_length=120)
    description: str = Field("", max_length=2000)
    starts_on: str = Field(max_length=10)
    ends_on: str = Field(max_length=10)
    store_ids: list[str] = Field(default_factory=list, max_length=1000)
    regions: list[str] = Field(default_factory=list, max_length=100)


class Enrol(BaseModel):
    store_id: str = Field(pattern=auth.STORE_ID_RE.pattern)
    enrolment_token: str = Field(pattern=r"^vet_[A-Za-z0-9_-]{20,100}$")


def add_routes(app: FastAPI, dash: Dash) -> None:
    engine = dash.engine

    @app.get("/hq/api/me")
    def me(s: ApiSession) -> dict[str, Any]:
        u = s.user
        return {"username": u.username, "role": u.role, "region": u.region, "csrf": s.csrf}

    @app.get("/hq/api/stores")
    def api_stores(s: ApiSession) -> list[dict[str, Any]]:
        return [x.as_json() for x in stores.visible_stores(engine, s.user)]

    @app.get("/hq/api/stores/{store_id}")
    def api_store(s: ApiSession, store_id: str) -> dict[str, Any]:
        return store_for(engine, s, store_id).as_json()

    @app.post("/hq/api/stores", status_code=201)
    def api_new_store(request: Request, s: ApiSession, body: NewStore) -> dict[str, Any]:
        require_admin(s)
        profile = stores.Profile(body.region.strip(), body.capacity, body.opening_hours.strip())
        try:
            return stores.create_store(
                engine, body.store_id, body.name, body.timezone, profile, hq_url(request)
            )
        except auth.ProvisioningError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.post("/hq/api/stores/{store_id}/rotate-key")
    def api_rotate(s: ApiSession, store_id: str) -> dict[str, str]:
        require_admin(s)
        store_for(engine, s, store_id)
        return {"store_id": store_id, "store_key": auth.rotate_key(engine, store_id)}

    @app.post("/hq/api/stores/{store_id}/revoke")
    def api_revoke(s: ApiSession, store_id: str) -> dict[str, Any]:
        require_admin(s)
        store_for(engine, s, store_id)
        auth.set_disabled(engine, store_id, True)
        return {"store_id": store_id, "disabled": True}

    @app.get("/hq/api/kpis")
    def api_kpis(
        s: ApiSession,
        date_from: Annotated[str | None, Query(alias="from")] = None,
        date_to: Annotated[str | None, Query(alias="to")] = None,
        region: str = "",
        sort: str = "visitors",
        store: Annotated[list[str] | None, Query()] = None,
    ) -> dict[str, Any]:
        try:
            a, b = kpi_report.parse_period(date_from, date_to, datetime.now(UTC).date())
        except kpi_report.PeriodError as exc:
            raise HTTPException(422, str(exc)) from None
        rows, chain = kpi_report.report(engine, selection(dash, s.user, region, store or []), a, b)
        return {
            "from": a.isoformat(),
            "to": b.isoformat(),
            "stores": [r.as_json() for r in kpi_report.sort_rows(rows, sort)],
            "chain": chain.as_json(),
        }

    _add_promotion_routes(app, dash)

    @app.post("/api/v1/enrol")
    async def enrol(body: Enrol) -> dict[str, str]:
        key = await run_in_threadpool(stores.enrol, engine, body.store_id, body.enrolment_token)
        if key is None:
            raise HTTPException(
                401, "unknown, used or expired enrolment token: ask HQ for a new provisioning file"
            )
        return {"store_id": body.store_id, "store_key": key}


def _add_promotion_routes(app: FastAPI, dash: Dash) -> None:
    engine = dash.engine

    @app.get("/hq/api/promotions")
    def api_promotions(s: ApiSession) -> list[dict[str, Any]]:
        visible = stores.visible_stores(engine, s.user)
        return [p.as_json() for p in promotions.visible(promotions.list_all(engine), visible)]

    @app.post("/hq/api/promotions", status_code=201)
    def api_new_promotion(s: ApiSession, body: NewPromotion) -> dict[str, Any]:
        require_admin(s)
        known = [x.store_id for x in stores.visible_stores(engine, s.user)]
        try:
            p = promotions.create(
                engine, kind=body.kind, title=body.title, description=body.description,
                starts_on=body.starts_on, ends_on=body.ends_on,
                store_ids=",".join(body.store_ids), regions=",".join(body.regions),
                created_by=s.user.username, known_stores=known,
            )  # fmt: skip
        except promotions.PromotionError as exc:
            raise HTTPException(422, str(exc)) from None
        return p.as_json()

    @app.get("/hq/api/promotions/{promotion_id}/uplift")
    def api_uplift(s: ApiSession, promotion_id: int) -> dict[str, Any]:
        visible = stores.visible_stores(engine, s.user)
        p = promotions.get(engine, promotion_id)
        if p is None or not promotions.visible([p], visible):
            raise HTTPException(404, f"no promotion {promotion_id} among your stores")
        up = promotions.uplift(engine, p, visible)
        return {
            "promotion": p.as_json(),
            "actual": up.actual,
            "expected": up.expected,
            "control_actual": up.control_actual,
            "control_expected": up.control_expected,
            "uplift_vs_baseline": up.vs_baseline,
            "uplift_vs_control": up.vs_control,
        }
