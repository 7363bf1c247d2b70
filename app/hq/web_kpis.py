"""The KPI page: stores ranked by any KPI for any period (vs the previous period and
last year), the chain's daily visitors with promotions as bands, a side-by-side
comparison of chosen stores, and the CSV export of the same table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.hq import html, kpi_report, promotions, stores, visit_days
from app.hq.dash_queries import StoreInfo, daily_footfall
from app.hq.kpi_report import KpiRow
from app.hq.web_session import PageSession

if TYPE_CHECKING:
    from app.hq.web_session import Dash

esc = html.esc
SHOWN = (
    ("visitors", "Visitors"), ("visitors_vs_prev", "vs prev."),
    ("visitors_vs_last_year", "vs last year"), ("traffic_index", "Traffic index"),
    ("capture_rate", "Capture"), ("conversion", "Conversion"), ("revenue", "Revenue"),
    ("revenue_vs_prev", "Rev. vs prev."), ("utilisation", "Utilisation"),
    ("congestion", "Congestion"), ("growth_momentum", "Momentum"),
    ("staffing_adequacy", "Staffing"), ("bottleneck", "Worst hour"),
)  # fmt: skip


def fmt(col: str, value: Any, row: KpiRow | None = None) -> str:
    if col == "bottleneck":  # the score, where and when
        if value is None:
            return "–"
        where = f"{row.bottleneck_hour} {row.bottleneck_zone}" if row else ""
        return f'{html.num(value)} <span class="muted">{esc(where)}</span>'
    if col in ("visitors_vs_prev", "visitors_vs_last_year", "revenue_vs_prev", "growth_momentum"):
        return html.signed_pct(value)
    if col in kpi_report.PERCENT:
        return html.pct(value)
    if col == "traffic_index":
        return html.num(value, 2)
    if col == "revenue":
        return html.num(value, 2)
    return html.num(value) if isinstance(value, int | float) else esc(value)


def selection(dash: Dash, user: Any, region: str, picked: list[str]) -> list[StoreInfo]:
    rows = stores.visible_stores(dash.engine, user)
    if region:
        rows = [s for s in rows if s.region == region]
    if picked:
        visible = {s.store_id for s in rows}
        hidden = sorted(set(picked) - visible)
        if hidden and user.role == "regional":
            raise HTTPException(403, "a store you asked for is outside your region")
        rows = [s for s in rows if s.store_id in picked]
    return rows


def ranking(rows: list[KpiRow], chain: KpiRow, sort: str, query: dict[str, Any]) -> str:
    def head(col: str, label: str) -> str:
        q = urlencode({**query, "sort": col}, doseq=True)
        mark = " ▼" if col == sort else ""
        return f'<a href="/hq/kpis?{esc(q)}">{esc(label)}{mark}</a>'

    heads = "".join(f"<th>{head(c, lbl)}</th>" for c, lbl in SHOWN)
    body = []
    for i, r in enumerate([*rows, chain]):
        is_chain = r is chain
        name = (
            esc(r.name)
            if is_chain
            else (
                f'<label><input type=checkbox name=store value="{esc(r.store_id)}"> '
                f'<a href="/hq/stores/{quote(r.store_id)}">{esc(r.name)}</a></label>'
            )
        )
        rank = "" if is_chain else str(i + 1)
        cells = "".join(f"<td>{fmt(c, getattr(r, c), r)}</td>" for c, _ in SHOWN)
        cls = ' class="chain"' if is_chain else ""
        body.append(f"<tr{cls}><td>{rank}</td><td>{name}</td><td>{esc(r.region)}</td>{cells}</tr>")
    return (
        '<form method=get action="/hq/kpis">'
        + "".join(
            f'<input type=hidden name="{esc(k)}" value="{esc(v)}">'
            for k, v in query.items()
            if k in ("from", "to")
        )  # fmt: skip
        + '<table class="kpis ranking"><thead><tr><th>#</th><th>Store</th><th>Region</th>'
        + heads
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
        "<button>Compare selected stores</button></form>"
    )


def side_by_side(rows: list[KpiRow]) -> str:
    cols = [esc(r.name) for r in rows]
    table_rows = [[esc(lbl), *[fmt(c, getattr(r, c), r) for r in rows]] for c, lbl in SHOWN]
    extra = [
        ["Capture prev.", *[html.pct(r.capture_rate_prev) for r in rows]],
        ["Capture last year", *[html.pct(r.capture_rate_last_year) for r in rows]],
        ["Conversion prev.", *[html.pct(r.conversion_prev) for r in rows]],
        ["Conversion last year", *[html.pct(r.conversion_last_year) for r in rows]],
    ]
    return html.table(["KPI", *[c for c in cols]], table_rows + extra, "compare")


def add_routes(app: FastAPI, dash: Dash, render: Any) -> None:

    def compute(
        s: Any, first: str | None, last: str | None, region: str, store: list[str], sort: str
    ) -> tuple[date, date, list[StoreInfo], list[KpiRow], KpiRow]:
        try:
            a, b = kpi_report.parse_period(first, last, datetime.now(UTC).date())
        except kpi_report.PeriodError as exc:
            raise HTTPException(422, str(exc)) from None
        chosen = selection(dash, s.user, region, store)
        rows, chain = kpi_report.report(dash.engine, chosen, a, b)
        return a, b, chosen, kpi_report.sort_rows(rows, sort), chain

    @app.get("/hq/kpis", include_in_schema=False)
    def kpis_page(
        request: Request, s: PageSession, region: str = "", sort: str = "visitors",
        store: list[str] = Query(default=[]),  # noqa: B008
    ) -> HTMLResponse:  # fmt: skip
        q = request.query_params
        a, b, chosen, rows, chain = compute(s, q.get("from"), q.get("to"), region, store, sort)
        query = {"from": a.isoformat(), "to": b.isoformat(), "region": region, "store": store}
        regions = sorted({x.region for x in stores.visible_stores(dash.engine, s.user) if x.region})
        opts = "".join(f'<option{" selected" if r == region else ""}>{esc(r)}</option>'
                       for r in regions)  # fmt: skip
        sel = f"<label>Region <select name=region><option value=''>all</option>{opts}</select></label>"
        csv_q = urlencode({**query, "sort": sort}, doseq=True)
        compare = side_by_side(rows) if len(store) >= 2 else ""

        body = (
            f"{html.period_form(a, b, sel)}<h2>Visitors per day, {a} – {b}</h2>"
            f"{chart_for(dash, chosen, a, b)}"
            f"{'<h2>Side by side</h2>' + compare if compare else ''}"
            f'<h2>Ranking</h2><p><a class=button href="/hq/kpis.csv?{esc(csv_q)}">Export CSV</a></p>'
            f"{ranking(rows, chain, sort, query)}{repeat_visitors(dash, chosen, a, b)}"
        )
        return render("KPIs", body, s, "/hq/kpis")

    @app.get("/hq/kpis.csv", include_in_schema=False)
    def kpis_csv(
        request: Request, s: PageSession, region: str = "", sort: str = "visitors",
        store: list[str] = Query(default=[]),  # noqa: B008
    ) -> Response:  # fmt: skip
        q = request.query_params
        a, b, _, rows, chain = compute(s, q.get("from"), q.get("to"), region, store, sort)
        return Response(
            kpi_report.to_csv(rows, chain),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="vitrine-kpis-{a}-{b}.csv"'},
        )


def repeat_visitors(dash: Dash, chosen: list[StoreInfo], a: date, b: date) -> str:
    """New vs returning per store and for the chain (only stores that send counts)."""
    v = visit_days.load(dash.engine, [s.store_id for s in chosen], a, b)
    if not v.by_store:
        return ""
    names = [(s.store_id, s.name) for s in chosen]
    return visit_days.section(visit_days.store_table(v, names))


def chart_for(dash: Dash, stores_: list[StoreInfo], a: date, b: date) -> str:
    ids = [s.store_id for s in stores_]
    daily = daily_footfall(dash.engine, ids, a, b)
    series = [(a + timedelta(days=i), float(daily.get(a + timedelta(days=i), 0)))
              for i in range((b - a).days + 1)]  # fmt: skip
    promos = promotions.visible(promotions.list_all(dash.engine, a, b), stores_)
    bands = [(p.starts_on, p.ends_on, f"{p.kind}: {p.title}") for p in promos]
    return html.line_chart(series, bands)
