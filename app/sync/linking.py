"""Purchase-to-service linking: the pure rule, and the store glue that applies it.

The rule (`link_purchase`): a purchased barcode links to the service session that
scanned the same barcode, provided the purchase happened while that session was active
or within `window_s` after it ended, and not before the scan itself. With several
candidates the most recent scan wins (ties: the later-started session, then the session
id, so the answer never depends on input order). No candidate: the purchase stays
unlinked and is looked at again whenever a scan of its barcode arrives or a session
ends (`relink_for_scans`), so the result is the same whatever order the data came in.

A session never ended (a tablet closed or revoked mid-service) counts as ended
`MAX_OPEN_S` after it started: a service is not hours long, and an abandoned one must
not claim every later sale of its items.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import ItemScan, Purchase, ServiceSession

log = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 2 * 3600.0
MAX_OPEN_S = 4 * 3600.0  # an open session older than this is taken as abandoned


@dataclass(frozen=True)
class ScanRef:
    """One scan of a barcode in a service session (what linking needs of it)."""

    session_id: str
    barcode: str
    scan_ts: float
    session_started: float
    session_ended: float | None  # None: the session is still active


@dataclass(frozen=True)
class PurchaseRef:
    key: int | str  # the purchase's id (any hashable)
    barcode: str
    ts: float


def is_candidate(purchase: PurchaseRef, scan: ScanRef, window_s: float) -> bool:
    """Whether `scan` may explain `purchase` under the rule."""
    if scan.barcode != purchase.barcode or purchase.ts < scan.scan_ts:
        return False
    if purchase.ts < scan.session_started:
        return False
    ended = scan.session_ended
    if ended is None:  # still open: active, unless abandoned
        ended = scan.session_started + MAX_OPEN_S
    return purchase.ts <= ended + window_s


def link_purchase(
    purchase: PurchaseRef, scans: Iterable[ScanRef], window_s: float = DEFAULT_WINDOW_S
) -> str | None:
    """The session id the purchase links to, or None."""
    best: ScanRef | None = None
    for s in scans:
        if not is_candidate(purchase, s, window_s):
            continue
        if best is None or (s.scan_ts, s.session_started, s.session_id) > (
            best.scan_ts,
            best.session_started,
            best.session_id,
        ):
            best = s
    return best.session_id if best else None


def link_purchases(
    purchases: Iterable[PurchaseRef],
    scans: Sequence[ScanRef],
    window_s: float = DEFAULT_WINDOW_S,
) -> dict[int | str, str | None]:
    """Apply the rule to many purchases: {purchase key: session id or None}."""
    by_barcode: dict[str, list[ScanRef]] = {}
    for s in scans:
        by_barcode.setdefault(s.barcode, []).append(s)
    return {p.key: link_purchase(p, by_barcode.get(p.barcode, ()), window_s) for p in purchases}


# --- store glue (runs inside the writer's transaction) ---------------------------------


def _scan_refs(session: Session, barcodes: set[str], before_ts: float) -> list[ScanRef]:
    rows = session.execute(
        select(
            ItemScan.session_id,
            ItemScan.barcode,
            ItemScan.ts,
            ServiceSession.started_at,
            ServiceSession.ended_at,
        )
        .join(ServiceSession, ServiceSession.id == ItemScan.session_id)
        .where(ItemScan.barcode.in_(barcodes), ItemScan.ts <= before_ts)
    ).all()
    return [ScanRef(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def link_purchase_rows(session: Session, purchases: Sequence[Purchase], window_s: float) -> int:
    """Set `session_id` on the given purchase rows by the rule; returns how many changed."""
    if not purchases:
        return 0
    barcodes = {p.barcode for p in purchases}
    scans = _scan_refs(session, barcodes, max(p.ts for p in purchases))
    links = link_purchases([PurchaseRef(p.id, p.barcode, p.ts) for p in purchases], scans, window_s)
    changed = 0
    for p in purchases:
        new = links[p.id]
        if p.session_id != new:
            p.session_id = new
            changed += 1
    return changed


def relink_for_scans(
    session: Session, barcodes: Iterable[str], since_ts: float, window_s: float
) -> int:
    """Re-apply the rule to purchases of `barcodes` at or after `since_ts` (call it after
    a scan is recorded or a session ends, in the same transaction)."""
    codes = set(barcodes)
    if not codes:
        return 0
    session.flush()
    purchases = (
        session.execute(
            select(Purchase).where(Purchase.barcode.in_(codes), Purchase.ts >= since_ts)
        )
        .scalars()
        .all()
    )
    changed = link_purchase_rows(session, purchases, window_s)
    if changed:
        log.debug("relinked %s purchases for %s barcodes", changed, len(codes))
    return changed
