"""HQ dashboard users, passwords, sessions and login throttling.

Passwords are argon2id hashes (argon2-cffi's defaults, rehashed on login when the
parameters change). A session is 256 random bits in an HttpOnly cookie; HQ keeps only
its SHA-256 with the user, an expiry and the session's CSRF token. Failed logins are
counted per (username, client address) in the database: after MAX_FAILURES within
WINDOW_S further attempts are refused until the window has passed (a correct password
included), whichever HQ process answers and across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.hq.dash_models import LOGIN_FAILURES, ROLES, SESSIONS, USERS

USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10
SESSION_TTL = timedelta(hours=12)
MAX_FAILURES = 5
WINDOW_S = 15 * 60.0

_hasher = PasswordHasher()
# verified against when the user does not exist, so both cases take the same time
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class UserError(ValueError):
    """A user cannot be created or changed; the message is one line for a person."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str  # admin | analyst | regional
    region: str | None
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_see_region(self, region: str | None) -> bool:
        """Admins and analysts see every store; a regional manager only their region's."""
        if self.role != "regional":
            return True
        return bool(region) and region == self.region


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: datetime


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def add_user(
    engine: Engine, username: str, password: str, role: str, region: str | None = None
) -> User:
    if not USERNAME_RE.match(username):
        raise UserError(f"user name {username!r}: 1-64 letters, digits, . _ @ -")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    region = (region or "").strip() or None
    if role == "regional" and not region:
        raise UserError("a regional manager needs a region (--region NAME)")
    check_new_password(password)
    try:
        with engine.begin() as conn:
            uid = conn.execute(
                USERS.insert()
                .values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    region=region if role == "regional" else None,
                )
                .returning(USERS.c.id)
            ).scalar_one()
    except IntegrityError:
        raise UserError(f"user {username!r} already exists") from None
    return User(uid, username, role, region if role == "regional" else None)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(USERS).order_by(USERS.c.username)).all()
    return [User(r.id, r.username, r.role, r.region, bool(r.disabled)) for r in rows]


def set_disabled(engine: Engine, username: str, disabled: bool) -> None:
    with engine.begin() as conn:
        res = conn.execute(
            update(USERS).where(USERS.c.username == username).values(disabled=disabled)
        )
        if res.rowcount != 1:
            raise UserError(f"no user {username!r}")
        if disabled:
            ids = select(USERS.c.id).where(USERS.c.username == username).scalar_subquery()
            conn.execute(delete(SESSIONS).where(SESSIONS.c.user_id == ids))


def set_password(engine: Engine, username: str, password: str) -> None:
    check_new_password(password)
    with engine.begin() as conn:
        res = conn.execute(
            update(USERS)
            .where(USERS.c.username == username)
            .values(password_hash=hash_password(password))
        )
        if res.rowcount != 1:
            raise UserError(f"no user {username!r}")
        ids = select(USERS.c.id).where(USERS.c.username == username).scalar_subquery()
        conn.execute(delete(SESSIONS).where(SESSIONS.c.user_id == ids))


def verify(engine: Engine, username: str, password: str) -> User | None:
    """The user if the password is right and the account enabled; None otherwise."""
    with engine.connect() as conn:
        row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        with engine.begin() as conn:
            conn.execute(
                update(USERS)
                .where(USERS.c.id == row.id)
                .values(password_hash=hash_password(password))
            )
    return User(row.id, row.username, row.role, row.region)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, user: User) -> tuple[str, Session]:
    """A new session for the user: (cookie token, session)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + SESSION_TTL
    with engine.begin() as conn:
        conn.execute(SESSIONS.delete().where(SESSIONS.c.expires_at < func.now()))
        conn.execute(
            SESSIONS.insert().values(
                token_hash=_token_hash(token), user_id=user.id, csrf=csrf, expires_at=expires
            )
        )
    return token, Session(user, csrf, expires)


def load_session(engine: Engine, token: str | None) -> Session | None:
    if not token or len(token) > 100:
        return None
    s, u = SESSIONS, USERS
    with engine.connect() as conn:
        row = conn.execute(
            select(s.c.csrf, s.c.expires_at, u.c.id, u.c.username, u.c.role, u.c.region)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.token_hash == _token_hash(token), s.c.expires_at > func.now())
            .where(u.c.disabled.is_(False))
        ).first()
    if row is None:
        return None
    return Session(User(row.id, row.username, row.role, row.region), row.csrf, row.expires_at)


def end_session(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == _token_hash(token)))


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, sent or "")


class LoginThrottle:
    """Failed logins per (username, client address), counted in HQ's database: the limit
    holds across restarts and between several HQ processes behind one address."""

    def __init__(
        self, engine: Engine, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S
    ) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_s)

    def _who(self, username: str, client: str) -> Any:
        f = LOGIN_FAILURES.c
        return (f.username == username.lower()[:64]) & (f.client == client[:64])

    def blocked(self, username: str, client: str) -> bool:
        f = LOGIN_FAILURES.c
        with self.engine.connect() as conn:
            n = conn.execute(
                select(func.count())
                .select_from(LOGIN_FAILURES)
                .where(self._who(username, client), f.at > func.now() - self.window)
            ).scalar_one()
        return int(n) >= self.max_failures

    def failed(self, username: str, client: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(LOGIN_FAILURES).values(username=username.lower()[:64], client=client[:64])
            )
            # what has left every window is of no use: keep the table small
            conn.execute(
                delete(LOGIN_FAILURES).where(LOGIN_FAILURES.c.at < func.now() - self.window)
            )

    def succeeded(self, username: str, client: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(LOGIN_FAILURES).where(self._who(username, client)))
