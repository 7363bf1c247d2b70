"""Dashboard pages: promotions and events (list with uplift, record one), and users
(admin only: list, add, disable)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.hq import html, promotions, stores, users
from app.hq.users import Session
from app.hq.web_session import PageSession, form_data, require_admin

if TYPE_CHECKING:
    from app.hq.web_session import Dash

esc = html.esc


def promo_rows(dash: Dash, session: Session) -> list[list[str]]:
    visible = stores.visible_stores(dash.engine, session.user)
    out = []
    for p in promotions.visible(promotions.list_all(dash.engine), visible):
        up = promotions.uplift(dash.engine, p, visible) if p.kind == "promotion" else None
        where = ", ".join([*p.regions, *p.store_ids])
        out.append([
            esc(p.kind), f"<b>{esc(p.title)}</b><br><small>{esc(p.description)}</small>",
            f"{p.starts_on} – {p.ends_on}", esc(where),
            html.signed_pct(up.vs_baseline) if up else "–",
            html.signed_pct(up.vs_control) if up else "–",
        ])  # fmt: skip
    return out


def promo_form(session: Session, error: str | None, f: dict[str, str]) -> str:
    kind = f.get("kind", "promotion")
    opts = "".join(
        f"<option{' selected' if k == kind else ''}>{k}</option>" for k in ("promotion", "event")
    )
    return (
        f"<h2>Record a promotion or event</h2>{html.error_box(error)}"
        f'<form method=post action="/hq/promotions" class=wide>{html.csrf_field(session)}'
        f"<label>Kind <select name=kind>{opts}</select></label>"
        f"{html.field('title', 'Title', f.get('title', ''), required='')}"
        f"{html.field('starts_on', 'From', f.get('starts_on', ''), 'date', required='')}"
        f"{html.field('ends_on', 'To', f.get('ends_on', ''), 'date', required='')}"
        f"{html.field('regions', 'Regions (comma-separated)', f.get('regions', ''))}"
        f"{html.field('store_ids', 'Store ids (comma-separated)', f.get('store_ids', ''))}"
        f"{html.field('description', 'Description', f.get('description', ''))}"
        "<button>Record</button></form>"
    )


def users_body(dash: Dash, session: Session, error: str | None = None) -> str:
    c = html.csrf_field(session)
    rows = [
        [esc(u.username), esc(u.role), esc(u.region or "–"),
         "disabled" if u.disabled else "active",
         "" if u.id == session.user.id else (
             f'<form method=post action="/hq/users/{quote(u.username)}/'
             f'{"enable" if u.disabled else "disable"}">{c}'
             f'<button>{"Enable" if u.disabled else "Disable"}</button></form>')]
        for u in users.list_users(dash.engine)
    ]  # fmt: skip
    roles = "".join(f"<option>{r}</option>" for r in ("analyst", "regional", "admin"))
    return (
        html.table(["User", "Role", "Region", "Status", ""], rows)
        + f"<h2>Add a user</h2>{html.error_box(error)}"
        f'<form method=post action="/hq/users" class=wide>{c}'
        f"{html.field('username', 'User name', required='')}"
        f"<label>Role <select name=role>{roles}</select></label>"
        f"{html.field('region', 'Region (regional managers)')}"
        f"{html.field('password', 'Password (10+ characters)', '', 'password', autocomplete='new-password')}"
        "<button>Add user</button></form>"
    )


def add_routes(app: FastAPI, dash: Dash) -> None:

    def promo_page(s: Session, error: str | None = None, f: dict[str, str] | None = None,
                   status: int = 200) -> HTMLResponse:  # fmt: skip
        table = html.table(
            ["Kind", "What", "When", "Where", "Uplift vs own baseline", "Uplift vs other stores"],
            promo_rows(dash, s), "promos",
        )  # fmt: skip
        note = (
            "<p class=muted>Uplift: visitors of the promoted stores during the promotion vs "
            "the same weekdays of the 4 weeks before; and that change vs the change of the "
            "stores without it over the same days.</p>"
        )
        form = promo_form(s, error, f or {}) if s.user.is_admin else ""
        body = note + table + form
        return HTMLResponse(html.page("Promotions and events", body, s, active="/hq/promotions"),
                            status)  # fmt: skip

    @app.get("/hq/promotions", include_in_schema=False)
    def promotions_page(s: PageSession) -> HTMLResponse:
        return promo_page(s)

    @app.post("/hq/promotions", include_in_schema=False)
    async def add_promotion(request: Request, s: PageSession) -> Response:
        require_admin(s)
        f = await form_data(request)
        known = [x.store_id for x in stores.visible_stores(dash.engine, s.user)]
        try:
            await run_in_threadpool(
                lambda: promotions.create(
                    dash.engine, kind=f.get("kind", ""), title=f.get("title", ""),
                    description=f.get("description", ""), starts_on=f.get("starts_on", ""),
                    ends_on=f.get("ends_on", ""), store_ids=f.get("store_ids", ""),
                    regions=f.get("regions", ""), created_by=s.user.username, known_stores=known,
                )
            )  # fmt: skip
        except promotions.PromotionError as exc:
            return promo_page(s, str(exc), f, 422)
        return RedirectResponse("/hq/promotions", 303)

    @app.get("/hq/users", include_in_schema=False)
    def users_page(s: PageSession) -> HTMLResponse:
        require_admin(s)
        return HTMLResponse(html.page("Users", users_body(dash, s), s, active="/hq/users"))

    @app.post("/hq/users", include_in_schema=False)
    async def add_user(request: Request, s: PageSession) -> Response:
        require_admin(s)
        f = await form_data(request)
        try:
            await run_in_threadpool(
                users.add_user, dash.engine, f.get("username", "").strip(),
                f.get("password", ""), f.get("role", ""), f.get("region"),
            )  # fmt: skip
        except users.UserError as exc:
            return HTMLResponse(
                html.page("Users", users_body(dash, s, str(exc)), s, active="/hq/users"), 422
            )
        return RedirectResponse("/hq/users", 303)

    def set_disabled(s: Session, username: str, disabled: bool) -> Response:
        require_admin(s)
        with contextlib.suppress(users.UserError):
            users.set_disabled(dash.engine, username, disabled)
        return RedirectResponse("/hq/users", 303)

    @app.post("/hq/users/{username}/disable", include_in_schema=False)
    def disable(s: PageSession, username: str) -> Response:
        return set_disabled(s, username, True)

    @app.post("/hq/users/{username}/enable", include_in_schema=False)
    def enable(s: PageSession, username: str) -> Response:
        return set_disabled(s, username, False)
