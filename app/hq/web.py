"""The HQ dashboard's plumbing: sessions from the cookie, CSRF, role and store checks,
form parsing, security headers, the login/logout pages and the static files.

Pages live under /hq/ (a missing or expired session redirects to /hq/login), the JSON
API under /hq/api/ (401 without a session). Every POST needs the session's CSRF token
(form field `csrf` or header X-CSRF-Token); the login form has its own double-submit
token. Pages: app.hq.web_pages; API: app.hq.dash_api.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool

from app.hq import html, users
from app.hq.dash_queries import StoreInfo, all_stores
from app.hq.users import LoginThrottle, Session
from app.paths import RESOURCES_DIR

COOKIE = "vitrine_hq_session"
LOGIN_COOKIE = "vitrine_hq_login"
STATIC_DIR = RESOURCES_DIR / "hq"
MAX_FORM = 64_000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class LoginRequired(Exception):
    """A page was asked for without a valid session."""


@dataclass
class Dash:
    engine: Engine
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


async def form_data(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (parsed once per request)."""
    cached = getattr(request.state, "form", None)
    if cached is not None:
        return dict(cached)
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, "form too large")
    data: dict[str, str] = {}
    if ctype == "application/x-www-form-urlencoded":
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        data = {k: v[-1] for k, v in parsed.items()}
    request.state.form = data
    return dict(data)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/hq", httponly=True, samesite="strict",
        secure=_secure(request),
    )  # fmt: skip


async def _session(dash: Dash, request: Request) -> Session | None:
    return await run_in_threadpool(users.load_session, dash.engine, request.cookies.get(COOKIE))


async def _check_csrf(request: Request, session: Session) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        sent = (await form_data(request)).get("csrf")
    if not users.csrf_ok(session, sent):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page")


async def page_session(request: Request) -> Session:
    """A page's session, or a redirect to the login page (LoginRequired)."""
    s = await _session(request.app.state.hq_dash, request)
    if s is None:
        raise LoginRequired()
    await _check_csrf(request, s)
    return s


async def api_session(request: Request) -> Session:
    """An API call's session, or 401."""
    s = await _session(request.app.state.hq_dash, request)
    if s is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Cookie"})
    await _check_csrf(request, s)
    return s


PageSession = Annotated[Session, Depends(page_session)]
ApiSession = Annotated[Session, Depends(api_session)]


def require_admin(session: Session) -> None:
    if not session.user.is_admin:
        raise HTTPException(403, "only an HQ admin may do this")


def store_for(engine: Engine, session: Session, store_id: str) -> StoreInfo:
    """The store if this user may see it: 403 otherwise (404 for an unknown store only
    to users who see every store, so a regional manager learns nothing)."""
    found = next((s for s in all_stores(engine) if s.store_id == store_id), None)
    if found is not None and session.user.can_see_region(found.region):
        return found
    if found is None and session.user.role != "regional":
        raise HTTPException(404, f"no store {store_id!r}")
    raise HTTPException(403, "this store is outside your region")


def install(app: FastAPI, engine: Engine) -> Dash:
    """Add the dashboard (pages, API, static files) to the HQ receiver's app."""
    from app.hq import dash_api, web_pages, web_promos

    dash = Dash(engine)
    app.state.hq_dash = dash

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        nxt = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/hq/login?next={nxt}", 303)

    @app.exception_handler(DataError)
    async def bad_text(request: Request, exc: DataError) -> Response:
        # e.g. a NUL character, which PostgreSQL text cannot hold
        return JSONResponse({"detail": "a field holds characters HQ cannot store"}, 422)

    @app.exception_handler(HTTPException)
    async def html_errors(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        if path.startswith("/hq/") and not path.startswith("/hq/api/"):
            body = html.error_box(str(exc.detail)) + '<p><a href="/hq/stores">Back</a></p>'
            return HTMLResponse(html.page(f"Error {exc.status_code}", body, None), exc.status_code)
        return await http_exception_handler(request, exc)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/hq"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Frame-Options"] = "DENY"
            if not request.url.path.startswith("/hq/static/"):
                response.headers["Cache-Control"] = "no-store"
        return response

    _add_login(app, dash)
    web_pages.add_routes(app, dash)
    web_promos.add_routes(app, dash)
    dash_api.add_routes(app, dash)
    return dash


def _login_page(request: Request, error: str | None, token: str, username: str = "") -> str:
    nxt = request.query_params.get("next", "/hq/stores")
    body = (
        f'{html.error_box(error)}<form method=post class=login action="/hq/login?next='
        f'{html.esc(quote(nxt))}"><input type=hidden name=login_token value="{html.esc(token)}">'
        f"{html.field('username', 'User name', username, autocomplete='username', required='')}"
        f"{html.field('password', 'Password', '', 'password', autocomplete='current-password')}"
        "<button type=submit>Log in</button></form>"
    )
    return html.page("Log in", body, None)


def _safe_next(nxt: str | None) -> str:
    if nxt and nxt.startswith("/hq/") and not nxt.startswith("//"):
        return nxt
    return "/hq/stores"


def _add_login(app: FastAPI, dash: Dash) -> None:
    @app.get("/hq/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        resp = HTMLResponse(_login_page(request, None, token))
        set_cookie(resp, request, LOGIN_COOKIE, token, 3600)
        return resp

    @app.post("/hq/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await form_data(request)
        username, password = form.get("username", "").strip(), form.get("password", "")
        client = request.client.host if request.client else "?"
        cookie_tok = request.cookies.get(LOGIN_COOKIE, "")
        token = cookie_tok or secrets.token_urlsafe(24)

        def again(msg: str, status: int) -> Response:
            resp = HTMLResponse(_login_page(request, msg, token, username), status)
            set_cookie(resp, request, LOGIN_COOKIE, token, 3600)
            return resp

        if not cookie_tok or not secrets.compare_digest(cookie_tok, form.get("login_token", "")):
            return again("Your login form expired; please try again.", 403)
        if not users.USERNAME_RE.match(username):
            return again("Wrong user name or password.", 401)
        if dash.throttle.blocked(username, client):
            return again("Too many failed attempts; wait 15 minutes and try again.", 429)
        user = await run_in_threadpool(users.verify, dash.engine, username, password)
        if user is None:
            dash.throttle.failed(username, client)
            return again("Wrong user name or password.", 401)
        dash.throttle.succeeded(username, client)
        sid, _ = await run_in_threadpool(users.start_session, dash.engine, user)
        resp = RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        set_cookie(resp, request, COOKIE, sid, int(users.SESSION_TTL.total_seconds()))
        resp.delete_cookie(LOGIN_COOKIE, path="/hq")
        return resp

    @app.post("/hq/logout", include_in_schema=False)
    async def logout(request: Request, session: PageSession) -> Response:
        await run_in_threadpool(users.end_session, dash.engine, request.cookies.get(COOKIE))
        resp = RedirectResponse("/hq/login", 303)
        resp.delete_cookie(COOKIE, path="/hq")
        return resp

    @app.get("/hq/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in ("hq.css", "hq.js"):
            raise HTTPException(404, "not found")
        return FileResponse(STATIC_DIR / name)

    @app.get("/hq", include_in_schema=False)
    @app.get("/hq/", include_in_schema=False)
    def root(session: PageSession) -> Response:
        return RedirectResponse("/hq/stores", 303)
