"""Dashboard pages: the stores list with health, one store, creating a store and its
provisioning file, key rotation and revocation, the KPI ranking / comparison and its
CSV export."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.hq import auth, html, kpi_report, stores, visit_days, web_kpis
from app.hq.dash_queries import StoreInfo
from app.hq.users import Session
from app.hq.web_session import PageSession, form_data, require_admin, store_for
from app.words import plural

if TYPE_CHECKING:
    from app.hq.web_session import Dash

esc = html.esc


def age(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return "never"
    s = max((now - ts).total_seconds(), 0)
    if s < 120:
        return f"{int(s)} s ago"
    if s < 7200:
        return f"{int(s // 60)} min ago"
    if s < 172800:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} days ago"


def backlog(s: StoreInfo, now: datetime) -> str:
    """What still waited at the store when its last batch left."""
    if s.backlog_rows is None:
        return "not reported"
    if s.backlog_rows == 0:
        return "all sent"
    rows = plural(s.backlog_rows, "row")
    return f"{rows}, oldest made {age(s.backlog_oldest_at, now)}" if s.backlog_oldest_at else rows


AUDIT_TARGET = 0.95  # below this, the last audit's accuracy is shown as a warning


def last_audit(s: StoreInfo, now: datetime) -> str:
    """The last counting audit's accuracy and age ("never" without one)."""
    if s.last_audit_at is None or s.last_audit_accuracy is None:
        return '<span class="muted">never</span>'
    warn = "warn" if s.last_audit_accuracy < AUDIT_TARGET else ""
    line = f" ({esc(s.last_audit_line)})" if s.last_audit_line else ""
    return (
        f'<span class="{warn}">{100 * s.last_audit_accuracy:.1f} %</span>{line}'
        f"<br><small>{esc(s.last_audit_at.date().isoformat())}, "
        f"{esc(age(s.last_audit_at, now))}</small>"
    )


def stores_body(rows: list[StoreInfo], session: Session, region: str) -> str:
    now = datetime.now(UTC)
    regions = sorted({s.region for s in rows if s.region})
    opts = "".join(
        f'<option value="{esc(r)}"{" selected" if r == region else ""}>{esc(r)}</option>'
        for r in regions
    )
    shown = [s for s in rows if not region or s.region == region]
    table = html.table(
        ["Store", "Region", "Last sync", "Backlog", "Data until", "Cameras live", "Open alerts",
         "Last counting audit", "Capacity", "Opening hours", "Key"],
        [
            [
                f'<a href="/hq/stores/{quote(s.store_id)}">{esc(s.name)}</a>'
                f"<br><small>{esc(s.store_id)}</small>",
                esc(s.region or "–"),
                esc(age(s.last_batch_at, now)),
                esc(backlog(s, now)),
                esc(s.data_until or "–"),
                f"{s.cameras_live}/{s.cameras_total}" if s.cameras_total else "–",
                f'<span class="{"warn" if s.open_alerts else ""}">{s.open_alerts}</span>',
                last_audit(s, now),
                esc(s.capacity or "–"),
                esc(s.opening_hours or "–"),
                "revoked" if s.disabled else "active",
            ]
            for s in shown
        ],
        "stores",
    )  # fmt: skip
    new = (
        '<p><a class=button href="/hq/stores/new">New store</a></p>'
        if session.user.is_admin
        else ""
    )
    return (
        f"<form method=get class=filters><label>Region <select name=region>"
        f"<option value=''>all</option>{opts}</select></label><button>Filter</button></form>"
        f"{new}<p class=muted>{len(shown)} stores</p>{table}"
    )


def kpi_summary(row: kpi_report.KpiRow) -> str:
    return html.table(
        ["KPI", "This period", "Previous period", "Last year"],
        [
            ["Visitors", html.num(row.visitors), html.num(row.visitors_prev),
             html.num(row.visitors_last_year)],
            ["Traffic index", html.num(row.traffic_index, 2), "", ""],
            ["Capture rate", html.pct(row.capture_rate), html.pct(row.capture_rate_prev),
             html.pct(row.capture_rate_last_year)],
            ["Sales conversion", html.pct(row.conversion), html.pct(row.conversion_prev),
             html.pct(row.conversion_last_year)],
            ["Revenue", html.num(row.revenue, 2), html.signed_pct(row.revenue_vs_prev),
             html.signed_pct(row.revenue_vs_last_year)],
            ["Utilisation (peak / capacity)", html.pct(row.utilisation), "", ""],
            ["Congestion (days >= 90 % capacity)", html.pct(row.congestion), "", ""],
            ["Growth momentum (4 weeks)", html.signed_pct(row.growth_momentum), "", ""],
        ],
        "kpi",
    )  # fmt: skip


def _admin_forms(s: StoreInfo, session: Session) -> str:
    if not session.user.is_admin:
        return ""
    c = html.csrf_field(session)
    sid = quote(s.store_id)
    revoke = (
        f'<form method=post action="/hq/stores/{sid}/reinstate">{c}<button>Reinstate</button></form>'
        if s.disabled
        else f'<form method=post action="/hq/stores/{sid}/revoke">{c}'
        "<button class=danger>Revoke key</button></form>"
    )
    return (
        f'<h2>Administration</h2><form method=post action="/hq/stores/{sid}/profile">{c}'
        f"{html.field('region', 'Region', s.region)}"
        f"{html.field('capacity', 'Capacity (people)', s.capacity or '')}"
        f"{html.field('opening_hours', 'Opening hours', s.opening_hours)}"
        f"<button>Save</button></form><div class=row>"
        f'<form method=post action="/hq/stores/{sid}/rotate-key">{c}<button>Rotate key</button>'
        f'</form><form method=post action="/hq/stores/{sid}/provisioning">{c}'
        f"<button>New provisioning file</button></form>{revoke}</div>"
    )


def store_body(dash: Dash, s: StoreInfo, session: Session, a: date, b: date, msg: str) -> str:
    rows, _ = kpi_report.report(dash.engine, [s], a, b)
    now = datetime.now(UTC)
    facts = html.table(
        ["Region", "Time zone", "Last sync", "Backlog", "Data until", "Cameras live",
         "Open alerts", "Last counting audit", "Capacity", "Opening hours", "Key"],
        [[esc(s.region or "–"), esc(s.timezone), esc(age(s.last_batch_at, now)),
          esc(backlog(s, now)), esc(s.data_until or "–"),
          f"{s.cameras_live}/{s.cameras_total}" if s.cameras_total else "–",
          str(s.open_alerts), last_audit(s, now), esc(s.capacity or "–"), esc(s.opening_hours or "–"),
          "revoked" if s.disabled else "active"]],
    )  # fmt: skip
    visits = visit_days.load(dash.engine, [s.store_id], a, b)
    repeat = visit_days.section(visit_days.day_table(visits)) if visits.by_day else ""
    return (
        f"{html.notice_box(msg)}{facts}<h2>{a} – {b}</h2>{html.period_form(a, b)}"
        f"{web_kpis.chart_for(dash, [s], a, b)}{kpi_summary(rows[0])}{repeat}"
        f"{_admin_forms(s, session)}"
    )


def provisioning_body(prov: dict[str, Any], key_note: str = "") -> str:
    text = json.dumps(prov, indent=2)
    href = "data:application/json;charset=utf-8," + quote(text)
    name = f"vitrine-provisioning-{prov['store_id']}.json"
    return (
        f"{html.notice_box(key_note)}<p>Give this file to the store's installer. It holds a "
        "one-time enrolment token (no store key), valid until "
        f"{esc(prov['expires_at'])}.</p><pre id=provisioning>{esc(text)}</pre>"
        f'<p><a class=button download="{esc(name)}" href="{esc(href)}">Download {esc(name)}</a></p>'
    )


def new_store_body(
    session: Session, error: str | None = None, form: dict[str, str] | None = None
) -> str:
    f = form or {}
    return (
        f'{html.error_box(error)}<form method=post action="/hq/stores/new">'
        f"{html.csrf_field(session)}"
        f"{html.field('store_id', 'Store id', f.get('store_id', ''), required='')}"
        f"{html.field('name', 'Name', f.get('name', ''), required='')}"
        f"{html.field('timezone', 'Time zone', f.get('timezone', 'Europe/Paris'))}"
        f"{html.field('region', 'Region', f.get('region', ''))}"
        f"{html.field('capacity', 'Capacity (people)', f.get('capacity', ''))}"
        f"{html.field('opening_hours', 'Opening hours', f.get('opening_hours', ''))}"
        "<button>Create store</button></form>"
    )


def hq_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def add_routes(app: FastAPI, dash: Dash) -> None:

    def render(title: str, body: str, s: Session, active: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(html.page(title, body, s, active=active), status)

    @app.get("/hq/stores", include_in_schema=False)
    def stores_page(s: PageSession, region: str = "") -> HTMLResponse:
        rows = stores.visible_stores(dash.engine, s.user)
        return render("Stores", stores_body(rows, s, region), s, "/hq/stores")

    @app.get("/hq/stores/new", include_in_schema=False)
    def new_store_form(s: PageSession) -> HTMLResponse:
        require_admin(s)
        return render("New store", new_store_body(s), s, "/hq/stores")

    @app.post("/hq/stores/new", include_in_schema=False)
    async def new_store(request: Request, s: PageSession) -> HTMLResponse:
        require_admin(s)
        f = await form_data(request)
        try:
            profile = stores.parse_profile(f.get("region", ""), f.get("capacity", ""),
                                           f.get("opening_hours", ""))  # fmt: skip
            prov = await run_in_threadpool(
                stores.create_store, dash.engine, f.get("store_id", "").strip(),
                f.get("name", ""), f.get("timezone", "UTC").strip() or "UTC", profile,
                hq_url(request),
            )  # fmt: skip
        except auth.ProvisioningError as exc:
            return render("New store", new_store_body(s, str(exc), f), s, "/hq/stores", 422)
        return render(f"Store {prov['store_id']} created", provisioning_body(prov), s, "/hq/stores")

    @app.get("/hq/stores/{store_id}", include_in_schema=False)
    def store_page(request: Request, s: PageSession, store_id: str, msg: str = "") -> HTMLResponse:
        st = store_for(dash.engine, s, store_id)
        a, b = _period(request.query_params.get("from"), request.query_params.get("to"))
        return render(st.name, store_body(dash, st, s, a, b, msg), s, "/hq/stores")

    _add_store_actions(app, dash, render)
    _add_kpi_pages(app, dash, render)


def _period(first: str | None, last: str | None) -> tuple[date, date]:
    try:
        return kpi_report.parse_period(first, last, datetime.now(UTC).date())
    except kpi_report.PeriodError as exc:
        raise HTTPException(422, str(exc)) from None


def _add_store_actions(app: FastAPI, dash: Dash, render: Any) -> None:
    def _redirect(store_id: str, msg: str) -> Response:
        from fastapi.responses import RedirectResponse

        return RedirectResponse(f"/hq/stores/{quote(store_id)}?{urlencode({'msg': msg})}", 303)

    @app.post("/hq/stores/{store_id}/profile", include_in_schema=False)
    async def profile(request: Request, s: PageSession, store_id: str) -> Response:
        require_admin(s)
        store_for(dash.engine, s, store_id)
        f = await form_data(request)
        try:
            p = stores.parse_profile(f.get("region", ""), f.get("capacity", ""),
                                     f.get("opening_hours", ""))  # fmt: skip
        except auth.ProvisioningError as exc:
            raise HTTPException(422, str(exc)) from None
        await run_in_threadpool(stores.save_profile, dash.engine, store_id, p)
        return _redirect(store_id, "Saved.")

    @app.post("/hq/stores/{store_id}/rotate-key", include_in_schema=False)
    def rotate(s: PageSession, store_id: str) -> HTMLResponse:
        require_admin(s)
        store_for(dash.engine, s, store_id)
        key = auth.rotate_key(dash.engine, store_id)
        body = (
            "<p>The old key no longer works. Put this key in the store's settings "
            "([sync] store_key); it is shown only now.</p>"
            f"<pre id=store-key>{esc(key)}</pre>"
            f'<p><a href="/hq/stores/{quote(store_id)}">Back to the store</a></p>'
        )
        return render(f"New key for {store_id}", body, s, "/hq/stores")

    @app.post("/hq/stores/{store_id}/provisioning", include_in_schema=False)
    def reprovision(request: Request, s: PageSession, store_id: str) -> HTMLResponse:
        require_admin(s)
        st = store_for(dash.engine, s, store_id)
        token, expires = stores.new_enrolment(dash.engine, store_id)
        prov = stores.provisioning_file(store_id, st.name, hq_url(request), token, expires)
        return render(f"Provisioning file for {store_id}", provisioning_body(prov), s, "/hq/stores")

    def set_revoked(s: Session, store_id: str, revoked: bool) -> Response:
        require_admin(s)
        store_for(dash.engine, s, store_id)
        auth.set_disabled(dash.engine, store_id, revoked)
        return _redirect(store_id, "Key revoked: the store's uploads are refused."
                         if revoked else "Store reinstated.")  # fmt: skip

    @app.post("/hq/stores/{store_id}/revoke", include_in_schema=False)
    def revoke(s: PageSession, store_id: str) -> Response:
        return set_revoked(s, store_id, True)

    @app.post("/hq/stores/{store_id}/reinstate", include_in_schema=False)
    def reinstate(s: PageSession, store_id: str) -> Response:
        return set_revoked(s, store_id, False)


def _add_kpi_pages(app: FastAPI, dash: Dash, render: Any) -> None:

    web_kpis.add_routes(app, dash, render)
