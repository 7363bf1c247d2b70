"""Stores as the dashboard manages them: who may see which store, creating a store
with its provisioning file, its profile (region, capacity, opening hours), key
rotation and revocation, and the one-time enrolment that hands a new store its key.

Provisioning file (JSON, format "vitrine-provisioning", version 1):

    {"format": "vitrine-provisioning", "version": 1, "store_id": "paris-01",
     "store_name": "Paris Rivoli", "hq_url": "https://hq.example.com",
     "enrol_path": "/api/v1/enrol", "enrolment_token": "vet_...",
     "expires_at": "2026-12-13T10:00:00+00:00"}

The store (its installer) POSTs {"store_id", "enrolment_token"} to hq_url + enrol_path
once and receives {"store_id", "store_key"}; the token then stops working (the store's
side: app/sync/provisioning.py, `main.py provision FILE` or the Settings button). The file
holds no store key, so a file left on a USB stick is worthless after enrolment or
expiry. Readers refuse a version they do not know.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.hq import auth
from app.hq.dash_models import ENROLMENTS, PROFILES
from app.hq.dash_queries import StoreInfo, all_stores
from app.hq.users import User

PROVISIONING_FORMAT = "vitrine-provisioning"
PROVISIONING_VERSION = 1
ENROL_PATH = "/api/v1/enrol"
ENROL_TTL = timedelta(days=7)


def visible_stores(engine: Engine, user: User) -> list[StoreInfo]:
    return [s for s in all_stores(engine) if user.can_see_region(s.region)]


def visible_ids(engine: Engine, user: User) -> list[str]:
    return [s.store_id for s in visible_stores(engine, user)]


@dataclass(frozen=True)
class Profile:
    region: str = ""
    capacity: int | None = None
    opening_hours: str = ""


def parse_profile(region: str, capacity: str, opening_hours: str) -> Profile:
    """Form fields -> Profile; raises ProvisioningError with a one-line message."""
    cap: int | None = None
    if capacity.strip():
        if not capacity.strip().isdigit() or not 0 < int(capacity) <= 100_000:
            raise auth.ProvisioningError(f"capacity {capacity!r} must be a number of people")
        cap = int(capacity)
    return Profile(region.strip()[:80], cap, opening_hours.strip()[:200])


def save_profile(engine: Engine, store_id: str, p: Profile) -> None:
    values = {"region": p.region, "capacity": p.capacity, "opening_hours": p.opening_hours}
    with engine.begin() as conn:
        conn.execute(
            pg_insert(PROFILES)
            .values(store_id=store_id, **values)
            .on_conflict_do_update(index_elements=["store_id"], set_=values)
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_enrolment(engine: Engine, store_id: str) -> tuple[str, datetime]:
    token = "vet_" + secrets.token_urlsafe(32)
    expires = datetime.now(UTC).replace(microsecond=0) + ENROL_TTL
    with engine.begin() as conn:
        conn.execute(
            ENROLMENTS.insert().values(
                token_hash=_token_hash(token), store_id=store_id, expires_at=expires
            )
        )
    return token, expires


def provisioning_file(
    store_id: str, name: str, hq_url: str, token: str, expires: datetime
) -> dict[str, Any]:
    return {
        "format": PROVISIONING_FORMAT,
        "version": PROVISIONING_VERSION,
        "store_id": store_id,
        "store_name": name,
        "hq_url": hq_url.rstrip("/"),
        "enrol_path": ENROL_PATH,
        "enrolment_token": token,
        "expires_at": expires.isoformat(),
    }


def create_store(
    engine: Engine, store_id: str, name: str, timezone: str, profile: Profile, hq_url: str
) -> dict[str, Any]:
    """Register the store and return its provisioning file (its key comes at enrolment)."""
    auth.add_store(engine, store_id, name, timezone)  # its first key is never shown
    save_profile(engine, store_id, profile)
    token, expires = new_enrolment(engine, store_id)
    return provisioning_file(store_id, name.strip(), hq_url, token, expires)


def enrol(engine: Engine, store_id: str, token: str) -> str | None:
    """Spend an enrolment token: the store's new key, or None (unknown, used, expired)."""
    with engine.begin() as conn:
        used = conn.execute(
            update(ENROLMENTS)
            .where(
                ENROLMENTS.c.token_hash == _token_hash(token),
                ENROLMENTS.c.store_id == store_id,
                ENROLMENTS.c.used_at.is_(None),
                ENROLMENTS.c.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(ENROLMENTS.c.store_id)
        ).first()
    if used is None:
        return None
    return auth.rotate_key(engine, store_id)
