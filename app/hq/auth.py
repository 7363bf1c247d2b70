"""Per-store keys: issued once at provisioning, kept at HQ only as a SHA-256 hash.

A key is 256 random bits, so a plain (fast) hash is enough: it cannot be guessed,
and a leaked `stores` table does not reveal any key. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from app.hq.models import STORES, Store

log = logging.getLogger(__name__)

KEY_PREFIX = "vsk_"
STORE_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ProvisioningError(ValueError):
    """A store cannot be added or changed; the message is one line for a person."""


@dataclass(frozen=True)
class StoreSummary:
    store_id: str
    name: str
    timezone: str
    created_at: datetime
    last_batch_at: datetime | None
    disabled: bool


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), key_hash)


def check_store_id(store_id: str) -> str:
    if not STORE_ID_RE.match(store_id):
        raise ProvisioningError(
            f"store id {store_id!r} must be 1-64 letters, digits, dots, dashes or underscores"
        )
    return store_id


def add_store(engine: Engine, store_id: str, name: str, timezone: str = "UTC") -> str:
    """Register a store and return its new key (shown once; only its hash is kept)."""
    check_store_id(store_id)
    if not name.strip():
        raise ProvisioningError("the store needs a name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProvisioningError(f"unknown time zone {timezone!r} (use e.g. Europe/Paris)") from None
    key = new_key()
    try:
        with engine.begin() as conn:
            conn.execute(
                STORES.insert().values(
                    store_id=store_id,
                    name=name.strip()[:120],
                    key_hash=hash_key(key),
                    timezone=timezone,
                )
            )
    except IntegrityError:
        raise ProvisioningError(
            f"store {store_id!r} already exists; use 'hq rotate-key' to issue a new key"
        ) from None
    log.info("store %s provisioned", store_id)
    return key


def rotate_key(engine: Engine, store_id: str) -> str:
    """Issue a new key for a store; the old one stops working at once."""
    key = new_key()
    with engine.begin() as conn:
        res = conn.execute(
            update(Store).where(Store.store_id == store_id).values(key_hash=hash_key(key))
        )
    if res.rowcount != 1:
        raise ProvisioningError(f"no store {store_id!r} at this HQ")
    return key


def set_disabled(engine: Engine, store_id: str, disabled: bool) -> None:
    with engine.begin() as conn:
        res = conn.execute(
            update(Store).where(Store.store_id == store_id).values(disabled=disabled)
        )
    if res.rowcount != 1:
        raise ProvisioningError(f"no store {store_id!r} at this HQ")


def list_stores(engine: Engine) -> list[StoreSummary]:
    with engine.connect() as conn:
        t = STORES
        rows = conn.execute(select(t).order_by(t.c.store_id)).all()
    return [
        StoreSummary(
            r.store_id, r.name, r.timezone, r.created_at, r.last_batch_at, bool(r.disabled)
        )
        for r in rows
    ]
