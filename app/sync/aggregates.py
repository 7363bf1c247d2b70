"""Aggregates for HQ that are not rollups: services, sales, alerts, camera health.

The arithmetic is pure (`session_aggs`, `sales_aggs`, `health_aggs` over plain facts);
`refresh` loads the facts of a time window from the store, recomputes every aggregate
of the window and queues in the outbox only those that differ from what was last
queued for the same key. Run it inside a writer transaction (the sync worker does, each
cycle, over the last two days; code that changes older data, e.g. a POS import, can call
it in its own transaction over the range it touched), so the outbox stays consistent
with the rows it summarises.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import kpis
from app import wire as pl
from app.store import kpi_queries as kq
from app.store.faces import visits_per_day
from app.store.models import AlertRow
from app.store.outbox import enqueue

log = logging.getLogger(__name__)

KEY_CHUNK = 400  # keys per IN (...) lookup (SQLite parameter limits)


@dataclass(frozen=True)
class SessionFact:
    id: str
    zone: str
    code: str  # salesperson employee code ("" if unknown)
    started_at: float
    ended_at: float | None
    scans: int
    linked_lines: int
    linked_revenue: float


@dataclass(frozen=True)
class PurchaseFact:
    transaction_id: str
    ts: float
    amount: float
    code: str  # the POS's salesperson code, else the linked session's salesperson's
    linked: bool


@dataclass(frozen=True)
class HealthFact:
    camera: str
    ts: float
    status: str
    source_fps: float


@dataclass(frozen=True)
class OutboxEntry:
    kind: str
    key: str
    data: dict[str, Any]


def _money(x: float) -> float:
    return round(x, 2)


def session_aggs(sessions: Iterable[SessionFact]) -> list[dict[str, Any]]:
    """Per 15-minute bucket of the start, zone and salesperson code."""
    acc: dict[tuple[int, str, str], dict[str, Any]] = {}
    for s in sessions:
        k = (pl.bucket_of(s.started_at), s.zone, s.code)
        a = acc.get(k)
        if a is None:
            a = acc[k] = {
                "bucket_start": k[0], "zone": s.zone, "salesperson_code": s.code,
                "sessions": 0, "ended_sessions": 0, "service_s_sum": 0.0,
                "sessions_with_scans": 0, "items_scanned": 0, "converted_sessions": 0,
                "linked_lines": 0, "revenue": 0.0,
            }  # fmt: skip
        a["sessions"] += 1
        if s.ended_at is not None:
            a["ended_sessions"] += 1
            a["service_s_sum"] += max(0.0, s.ended_at - s.started_at)
        a["sessions_with_scans"] += s.scans > 0
        a["items_scanned"] += s.scans
        a["converted_sessions"] += s.linked_lines > 0
        a["linked_lines"] += s.linked_lines
        a["revenue"] += s.linked_revenue
    for a in acc.values():
        a["service_s_sum"] = round(a["service_s_sum"], 3)
        a["revenue"] = _money(a["revenue"])
    return [acc[k] for k in sorted(acc)]


def sales_aggs(purchases: Iterable[PurchaseFact]) -> list[dict[str, Any]]:
    """Per 15-minute bucket and salesperson code: transactions (distinct ids), lines,
    revenue, and the part linked to a service session."""
    tx: dict[tuple[int, str], set[str]] = defaultdict(set)
    linked_tx: dict[tuple[int, str], set[str]] = defaultdict(set)
    sums: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for p in purchases:
        k = (pl.bucket_of(p.ts), p.code)
        tx[k].add(p.transaction_id)
        s = sums[k]
        s[0] += 1
        s[1] += p.amount
        if p.linked:
            linked_tx[k].add(p.transaction_id)
            s[2] += p.amount
    return [
        {
            "bucket_start": k[0],
            "salesperson_code": k[1],
            "transactions": len(tx[k]),
            "lines": int(sums[k][0]),
            "revenue": _money(sums[k][1]),
            "linked_transactions": len(linked_tx[k]),
            "linked_revenue": _money(sums[k][2]),
        }  # fmt: skip
        for k in sorted(sums)
    ]


def health_aggs(samples: Iterable[HealthFact]) -> list[dict[str, Any]]:
    """Per camera and 15-minute bucket: status reports, how many said live, the last
    status, and the source frame rate (mean and min over live reports)."""
    groups: dict[tuple[str, int], list[HealthFact]] = defaultdict(list)
    for h in samples:
        groups[(h.camera, pl.bucket_of(h.ts))].append(h)
    out = []
    for (camera, bucket), hs in sorted(groups.items()):
        hs.sort(key=lambda h: h.ts)
        fps = [h.source_fps for h in hs if h.status == "live" and h.source_fps > 0]
        out.append(
            {
                "bucket_start": bucket,
                "camera": camera,
                "samples": len(hs),
                "live_samples": sum(h.status == "live" for h in hs),
                "last_status": hs[-1].status,
                "fps_avg": round(sum(fps) / len(fps), 2) if fps else 0.0,
                "fps_min": round(min(fps), 2) if fps else 0.0,
            }  # fmt: skip
        )
    return out


def kpi_hours(
    k: kq.PeriodKpis, start: float, end: float, target: float | None
) -> list[dict[str, Any]]:
    """The hourly KPIs HQ keeps (staffing, bottleneck) of the hours starting in
    [start, end): one row per local hour, with the zone of the hour's worst score."""
    worst: dict[float, tuple[str, float]] = {}
    for z in k.zone_hours:
        if z.bottleneck is not None and z.bottleneck > worst.get(z.hour_start, ("", -1.0))[1]:
            worst[z.hour_start] = (z.zone, z.bottleneck)
    waits: dict[float, tuple[int, float]] = {}
    for q in k.queues:
        for hr, (n, m) in q.by_hour.items():
            c, t = waits.get(hr, (0, 0.0))
            waits[hr] = (c + n, t + n * m)

    def r(x: float | None, nd: int = 4) -> float | None:
        return None if x is None else round(x, nd)

    out = []
    for h in k.hours:
        if not start <= h.hour_start < end:
            continue
        n, total = waits.get(h.hour_start, (0, 0.0))
        wz, ws = worst.get(h.hour_start, ("", None))
        out.append({
            "bucket_start": pl.bucket_of(h.hour_start), "visitors": h.visitors,
            "people_peak": h.people_peak, "on_duty": h.on_duty,
            "required_staff": kpis.required_staff(h.visitors, target),
            "staffing_adequacy": r(h.staffing_adequacy), "congestion": r(h.congestion),
            "queue_waits": n, "queue_wait_sum_s": round(total, 3),
            "bottleneck": r(h.bottleneck, 2), "worst_zone": wz, "worst_zone_score": r(ws, 2),
        })  # fmt: skip
    return out


def store_kpi_params(db: Session) -> kq.KpiParams:
    """KPI settings when the caller has none: the store's time zone, nothing else."""
    tz = db.connection().exec_driver_sql("SELECT timezone FROM store_info LIMIT 1").scalar()
    try:
        return kq.KpiParams(tz=ZoneInfo(str(tz or "UTC")))
    except (KeyError, ValueError):
        return kq.KpiParams(tz=ZoneInfo("UTC"))


def load_kpi_entries(
    db: Session, start: float, end: float, params: kq.KpiParams | None = None
) -> list[OutboxEntry]:
    p = params or store_kpi_params(db)
    first = datetime.fromtimestamp(start, p.tz).date()
    last = datetime.fromtimestamp(end - 1, p.tz).date()
    k = kq.period_kpis(db, p, first, last)
    return entries(pl.KPI_HOUR, kpi_hours(k, start, end, p.visitors_per_salesperson))


def load_visit_days(db: Session, start: float, end: float, tz: ZoneInfo) -> list[OutboxEntry]:
    """Opt-in recognition's counts (new, returning, staff) of every local day that
    [start, end) touches, whole days; nothing for a store that recognises nobody."""
    first = datetime.fromtimestamp(start, tz).date()
    last = datetime.fromtimestamp(end - 1, tz).date()
    lo = datetime.combine(first, datetime.min.time(), tz).timestamp()
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).timestamp()
    days = visits_per_day(db, lo, hi, tz)
    rows = [
        pl.visit_day_data(d.isoformat(), c["new"], c["returning"], c["staff"])
        for d, c in days.items()
    ]
    return entries(pl.VISIT_DAY, rows)


def entries(kind: str, rows: Iterable[dict[str, Any]]) -> list[OutboxEntry]:
    return [OutboxEntry(kind, pl.natural_key(kind, r), r) for r in rows]


# --- loading facts from the store ----------------------------------------------------------

SESSIONS_SQL = text(
    """
SELECT s.id, s.zone, COALESCE(sp.employee_code, '') AS code, s.started_at, s.ended_at,
       -- items shown: an item scanned twice in a service is one (the tablet's and the
       -- store reports' rule, app/sync/lan/session_json.py)
       (SELECT count(DISTINCT i.barcode) FROM item_scans i WHERE i.session_id = s.id) AS scans,
       (SELECT count(*) FROM purchases p WHERE p.session_id = s.id) AS lines,
       (SELECT COALESCE(sum(p.amount), 0) FROM purchases p WHERE p.session_id = s.id) AS revenue
FROM service_sessions s LEFT JOIN salespersons sp ON sp.id = s.salesperson_id
WHERE s.started_at >= :start AND s.started_at < :end
"""
)
PURCHASES_SQL = text(
    """
SELECT p.transaction_id, p.ts, p.amount, p.salesperson_code, p.session_id,
       COALESCE(sp.employee_code, '') AS session_code
FROM purchases p
LEFT JOIN service_sessions s ON s.id = p.session_id
LEFT JOIN salespersons sp ON sp.id = s.salesperson_id
WHERE p.ts >= :start AND p.ts < :end
"""
)
HEALTH_SQL = text(
    "SELECT camera, ts, status, source_fps FROM camera_health WHERE ts >= :start AND ts < :end"
)
ALERTS_SQL = text(
    "SELECT id, kind, subject, camera, zone, ts, last_seen, count, resolved_at, acknowledged_at "
    "FROM alerts WHERE (ts >= :start AND ts < :end) "
    "OR (acknowledged_at >= :start AND acknowledged_at < :end) "
    "OR (resolved_at >= :start AND resolved_at < :end)"
)


def load_outbox_entries(db: Session, start: float, end: float) -> list[OutboxEntry]:
    """Every non-rollup aggregate of the 15-minute buckets overlapping [start, end)."""
    p = {"start": float(pl.bucket_of(start)), "end": float(end)}
    sessions = [
        SessionFact(r.id, r.zone, r.code, r.started_at, r.ended_at, r.scans, r.lines, r.revenue)
        for r in db.execute(SESSIONS_SQL, p)
    ]
    purchases = [
        PurchaseFact(
            r.transaction_id,
            r.ts,
            r.amount,
            r.salesperson_code or r.session_code,
            r.session_id is not None,
        )  # fmt: skip
        for r in db.execute(PURCHASES_SQL, p)
    ]
    health = [
        HealthFact(r.camera, r.ts, r.status, r.source_fps or 0.0) for r in db.execute(HEALTH_SQL, p)
    ]
    alerts = [
        pl.alert_data(
            AlertRow(
                id=r.id,
                kind=r.kind,
                subject=r.subject,
                camera=r.camera,
                zone=r.zone,
                ts=r.ts,
                last_seen=r.last_seen,
                count=r.count,
                resolved_at=r.resolved_at,
                acknowledged_at=r.acknowledged_at,
            )
        )  # fmt: skip
        for r in db.execute(ALERTS_SQL, p)
    ]
    return [
        *entries(pl.SESSION_AGG, session_aggs(sessions)),
        *entries(pl.SALES_AGG, sales_aggs(purchases)),
        *entries(pl.CAMERA_HEALTH, health_aggs(health)),
        *entries(pl.ALERT, alerts),
    ]


def latest_queued(db: Session, kind: str, keys: Sequence[str]) -> dict[str, Any]:
    """The payload last queued for each key of `kind` (parsed), for keys that have one."""
    found: dict[str, Any] = {}
    conn = db.connection()
    for i in range(0, len(keys), KEY_CHUNK):
        chunk = list(keys[i : i + KEY_CHUNK])
        marks = ",".join("?" * len(chunk))
        rows = conn.exec_driver_sql(
            f"SELECT key, payload FROM sync_outbox WHERE kind = ? AND key IN ({marks}) ORDER BY id",
            (kind, *chunk),
        )
        for key, text_ in rows:
            found[key] = text_  # ordered by id: the last one wins
    return {k: json.loads(v) for k, v in found.items()}


def changed(db: Session, items: Sequence[OutboxEntry]) -> list[OutboxEntry]:
    """The entries whose payload differs from the last one queued under their key."""
    by_kind: dict[str, list[OutboxEntry]] = defaultdict(list)
    for e in items:
        by_kind[e.kind].append(e)
    out = []
    for kind, es in by_kind.items():
        last = latest_queued(db, kind, [e.key for e in es])
        out += [e for e in es if last.get(e.key) != e.data]
    return out


def refresh(db: Session, start: float, end: float, kpi_params: kq.KpiParams | None = None) -> int:
    """Recompute the window's aggregates (and, given the store's KPI settings, its
    hourly KPIs) and queue the changed ones; returns how many."""
    found = load_outbox_entries(db, start, end)
    found += load_visit_days(db, start, end, (kpi_params or store_kpi_params(db)).tz)
    if kpi_params is not None:  # the app's worker always has them (from its settings)
        hour = pl.bucket_of(start) - pl.bucket_of(start) % 3600  # whole hours
        found += load_kpi_entries(db, hour, end, kpi_params)
    todo = changed(db, found)
    for e in todo:
        pl.validate_data(e.kind, e.data)
        enqueue(db, e.kind, e.key, e.data)
    if todo:
        log.debug("queued %d changed aggregates for HQ", len(todo))
    return len(todo)
