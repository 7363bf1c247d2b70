"""The HQ dashboard's sessions and checks, shared by its pages and API: the session from
the cookie, CSRF, role and store checks, form parsing, cookies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request
from fastapi.responses import (
    Response,
)
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.hq import users
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
    throttle: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.throttle = LoginThrottle(self.engine)


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
