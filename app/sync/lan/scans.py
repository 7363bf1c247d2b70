"""Recording a scanned item: the store writer's job for `POST /sessions/{id}/scans`.

This is the tablets' hottest write, and every scan waits for the writer's COMMIT, so the
job is kept short: plain SQL (Core) statements on the writer's connection, no ORM object
loading or unit-of-work flush. The usual case is four statements: read the session,
insert the scan (`ON CONFLICT (idempotency_key) DO NOTHING ... RETURNING id`, so the
idempotency check and the insert are one statement), check for purchases waiting to be
linked, read the product. A repeated key, a foreign session or an ended session take
the slower path that tells them apart; linking runs only when a purchase of the
barcode exists at or after the scan.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from app.store.models import ItemScan, Product, Purchase, ServiceSession
from app.sync import gtin
from app.sync.linking import relink_for_scans

_SCANS = cast(Table, ItemScan.__table__)
# Built once with bound parameters: building and hashing a statement per call costs more
# than running it (0.2 ms against 0.8 ms for the job, bench on the encrypted store).
_SESSION = select(
    ServiceSession.salesperson_id, ServiceSession.started_at, ServiceSession.ended_at
).where(ServiceSession.id == bindparam("session_id"))
_INSERT = (
    insert(_SCANS)
    .values(
        session_id=bindparam("session_id"),
        barcode=bindparam("barcode"),
        ts=bindparam("ts"),
        idempotency_key=bindparam("key"),
    )
    .on_conflict_do_nothing(index_elements=[_SCANS.c.idempotency_key])
    .returning(_SCANS.c.id)
)
_PRIOR = select(ItemScan.id, ItemScan.session_id, ItemScan.barcode, ItemScan.ts).where(
    ItemScan.idempotency_key == bindparam("key")
)
_WAITING = (
    select(Purchase.id)
    .where(Purchase.barcode == bindparam("barcode"), Purchase.ts >= bindparam("ts"))
    .limit(1)
)
_PRODUCT = select(Product.barcode, Product.name, Product.category, Product.price).where(
    Product.barcode == bindparam("barcode")
)


class ScanRefused(Exception):
    """The scan cannot be recorded; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def unconfirmed_problem(s: Session, barcode: str, key: str) -> str:
    """Why a code sent without `confirmed` is refused (409), or "": it must be a valid
    EAN/UPC, or in the catalogue, or the retry of a scan already recorded. Anything else
    (a typo like "abc", a misread check digit) is recorded only once the salesperson
    confirmed it."""
    if gtin.is_valid_gtin(barcode):
        return ""
    conn = s.connection()
    if conn.execute(_PRODUCT, {"barcode": barcode}).first() is not None:
        return ""
    if conn.execute(_PRIOR, {"key": key}).first() is not None:
        return ""
    return gtin.problem(barcode) or (
        f"{barcode} is not an EAN or UPC barcode and is not in the catalogue: "
        "check it, and confirm to add it anyway."
    )


def product_json(s: Session, barcode: str) -> dict[str, Any] | None:
    row = s.connection().execute(_PRODUCT, {"barcode": barcode}).first()
    if row is None:
        return None
    return {"barcode": row[0], "name": row[1], "category": row[2], "price": row[3]}


def record_scan(
    s: Session,
    *,
    salesperson_id: int,
    session_id: str,
    barcode: str,
    key: str,
    scanned: float,
    link_window_s: float,
    confirmed: bool = False,
) -> dict[str, Any]:
    """Record one scan in the writer's transaction (idempotent by `key`); returns the
    scan as the API shows it. Raises `ScanRefused` (404, 403, 409: an ended service, a
    key of another session, or a code that is neither a valid EAN/UPC nor in the
    catalogue and not `confirmed`: a conflict with the catalogue the salesperson settles)."""
    conn = s.connection()
    ss = conn.execute(_SESSION, {"session_id": session_id}).first()
    if ss is None:
        raise ScanRefused(404, "no such service session")
    owner, started, ended = ss
    if owner != salesperson_id:
        raise ScanRefused(403, "this service session belongs to someone else")
    if not confirmed and ended is None:
        problem = unconfirmed_problem(s, barcode, key)
        if problem:
            raise ScanRefused(409, problem)
    new_id = None
    ts = max(scanned, started)
    if ended is None:
        params = {"session_id": session_id, "barcode": barcode, "ts": ts, "key": key}
        new_id = conn.execute(_INSERT, params).scalar()
    if new_id is None:  # the key is known (a retry), or the service has ended
        prior = conn.execute(_PRIOR, {"key": key}).first()
        if prior is None:
            raise ScanRefused(409, "this service has ended: start a new one")
        if prior[1] != session_id:
            raise ScanRefused(409, "this idempotency key was used for another session")
        new_id, barcode, ts, duplicate = prior[0], prior[2], prior[3], True
    else:
        duplicate = False
        # a purchase this scan may explain (rare: the POS told us first)
        if conn.execute(_WAITING, {"barcode": barcode, "ts": ts}).first() is not None:
            relink_for_scans(s, [barcode], ts, link_window_s)
    return {
        "id": new_id,
        "session_id": session_id,
        "barcode": barcode,
        "ts": ts,
        "duplicate": duplicate,
        "key": key,
        "product": product_json(s, barcode),
    }


def remove_scan(
    s: Session, *, salesperson_id: int, session_id: str, key: str, link_window_s: float
) -> bool:
    """Remove a wrong scan (by its idempotency key) from an open service; True if it was
    there (removing it twice is not an error: a retried request). Purchases of its
    barcode linked through it are linked again by the rule (maybe to nothing)."""
    conn = s.connection()
    ss = conn.execute(_SESSION, {"session_id": session_id}).first()
    if ss is None:
        raise ScanRefused(404, "no such service session")
    owner, started, ended = ss
    if owner != salesperson_id:
        raise ScanRefused(403, "this service session belongs to someone else")
    prior = conn.execute(_PRIOR, {"key": key}).first()
    if prior is None:
        return False
    if prior[1] != session_id:
        raise ScanRefused(409, "this idempotency key was used for another session")
    if ended is not None:
        raise ScanRefused(409, "this service has ended: its items can no longer be removed")
    conn.execute(delete(_SCANS).where(_SCANS.c.id == prior[0]))
    relink_for_scans(s, [prior[2]], started, link_window_s)
    return True


def scan_job(
    salesperson_id: int,
    session_id: str,
    barcode: str,
    key: str,
    scanned: float,
    link_window_s: float,
    confirmed: bool = False,
) -> Callable[[Session], dict[str, Any]]:
    """`record_scan` as a job for `store.writer.submit` (resolved after COMMIT)."""
    return partial(
        record_scan,
        salesperson_id=salesperson_id,
        session_id=session_id,
        barcode=barcode,
        key=key,
        scanned=scanned,
        link_window_s=link_window_s,
        confirmed=confirmed,
    )
