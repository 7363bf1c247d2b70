"""Report queries. They read rollups (15-minute buckets), never raw events, so a month of
a busy store is a few thousand rows. Times in results are in the store's time zone.

Footfall ("people who came in"): the entrance rollups when entrances are configured
(crossed the outer line AND reached the zone inside the door), otherwise the sum of the
door lines' "in" crossings (a line inside the store, `door = false`, is rolled up as an
"aisle" and never counts). Passers-by come from the entrance rollups.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import figures
from app.store.models import AlertRow, OccupancySample, ZoneVisit

TimeLike = datetime | date | float | int


def _tz(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def to_epoch(t: TimeLike, tz: str | ZoneInfo = "UTC") -> float:
    """Epoch seconds of a datetime (naive = store-local), a date (local midnight) or a number."""
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=_tz(tz))).timestamp()
    if isinstance(t, date):
        return datetime(t.year, t.month, t.day, tzinfo=_tz(tz)).timestamp()
    return float(t)


def _footfall_scope(session: Session, start: float, end: float) -> str:
    has_entrance = (
        session.connection()
        .exec_driver_sql(
            "SELECT 1 FROM rollups WHERE scope = 'entrance' AND bucket_start >= ? AND bucket_start < ? LIMIT 1",
            (start, end),
        )
        .first()
    )
    return "entrance" if has_entrance else "line"


def _per_bucket(
    session: Session, scope: str, start: float, end: float
) -> list[tuple[float, int, int]]:
    rows = session.connection().exec_driver_sql(
        "SELECT bucket_start, SUM(entries), SUM(passersby) FROM rollups "
        "WHERE scope = ? AND bucket_start >= ? AND bucket_start < ? GROUP BY bucket_start",
        (scope, start, end),
    )
    return [(float(b), int(e or 0), int(p or 0)) for b, e, p in rows]


def _store_buckets(session: Session, start: float, end: float) -> list[tuple[float, int, int]]:
    """(bucket_start, entries, passersby) of the whole store."""
    scope = _footfall_scope(session, start, end)
    rows = _per_bucket(session, scope, start, end)
    if scope == "line":  # passers-by only exist per entrance; none here
        rows = [(b, e, 0) for b, e, _ in rows]
    return rows


@dataclass(frozen=True)
class HourCount:
    hour: datetime  # local hour start
    entries: int
    passersby: int


def footfall_per_hour(
    session: Session, start: TimeLike, end: TimeLike, tz: str | ZoneInfo = "UTC"
) -> list[HourCount]:
    """Entries and passers-by per local hour in [start, end), hours without data omitted."""
    zone = _tz(tz)
    s, e = to_epoch(start, zone), to_epoch(end, zone)
    acc: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for b, entries, passers in _store_buckets(session, s, e):
        hour = datetime.fromtimestamp(b, zone).replace(minute=0, second=0, microsecond=0)
        a = acc[hour]
        a[0] += entries
        a[1] += passers
    return [HourCount(h, v[0], v[1]) for h, v in sorted(acc.items())]


@dataclass(frozen=True)
class ZoneDwell:
    zone: str
    entries: int
    visits: int  # finished visits (app/store/figures.py)
    avg_dwell_s: float
    max_dwell_s: float
    occupancy_peak: int


def dwell_by_zone(
    session: Session, start: TimeLike, end: TimeLike, tz: str | ZoneInfo = "UTC"
) -> list[ZoneDwell]:
    """Per zone: zone entries and finished visits with their dwell (app/store/figures.py
    says what each counts)."""
    s, e = to_epoch(start, tz), to_epoch(end, tz)
    return [
        ZoneDwell(z.zone, z.zone_entries, z.finished_visits, z.mean_dwell_s, z.dwell_max_s,
                  z.occupancy_peak)
        for z in figures.zone_figures(session, s, e).values()
    ]  # fmt: skip


@dataclass(frozen=True)
class Heatmap:
    """Average entries per (weekday 0=Monday, local hour) over the days of the range."""

    values: list[list[float]]  # [7][24]
    totals: list[list[int]]
    days: list[int]  # how many of each weekday the range holds


def busiest_hours(
    session: Session, start: TimeLike, end: TimeLike, tz: str | ZoneInfo = "UTC"
) -> Heatmap:
    zone = _tz(tz)
    s, e = to_epoch(start, zone), to_epoch(end, zone)
    totals = [[0] * 24 for _ in range(7)]
    for b, entries, _ in _store_buckets(session, s, e):
        local = datetime.fromtimestamp(b, zone)
        totals[local.weekday()][local.hour] += entries
    days = [0] * 7
    d = datetime.fromtimestamp(s, zone).date()
    last = datetime.fromtimestamp(e - 1, zone).date()
    while d <= last:
        days[d.weekday()] += 1
        d += timedelta(days=1)
    values = [[t / days[w] if days[w] else 0.0 for t in totals[w]] for w in range(7)]
    return Heatmap(values, totals, days)


@dataclass(frozen=True)
class Totals:
    entries: int
    passersby: int
    capture_rate: float | None  # entries / (entries + passers-by); None without entrances
    visits: int
    avg_dwell_s: float


def day_totals(session: Session, day: date, tz: str | ZoneInfo = "UTC") -> Totals:
    zone = _tz(tz)
    s = to_epoch(day, zone)
    e = to_epoch(day + timedelta(days=1), zone)
    scope = _footfall_scope(session, s, e)
    rows = _per_bucket(session, scope, s, e)
    entries = sum(r[1] for r in rows)
    passers = sum(r[2] for r in rows) if scope == "entrance" else 0
    rate = entries / (entries + passers) if scope == "entrance" and entries + passers else None
    dwell = dwell_by_zone(session, s, e)
    visits = sum(z.visits for z in dwell)
    avg = sum(z.avg_dwell_s * z.visits for z in dwell) / visits if visits else 0.0
    return Totals(entries, passers, rate, visits, avg)


def today_totals(session: Session, tz: str | ZoneInfo = "UTC", now: float | None = None) -> Totals:
    zone = _tz(tz)
    return day_totals(session, datetime.fromtimestamp(now or time.time(), zone).date(), zone)


def today_line_counts(
    session: Session, camera: str, tz: str | ZoneInfo = "UTC", now: float | None = None
) -> dict[str, dict[str, int]]:
    """Today's stored crossings of one camera's lines: {line: {"in": n, "out": m}}."""
    zone = _tz(tz)
    day = datetime.fromtimestamp(now or time.time(), zone).date()
    s, e = to_epoch(day, zone), to_epoch(day + timedelta(days=1), zone)
    out: dict[str, dict[str, int]] = {}
    for line, direction, n in session.connection().exec_driver_sql(
        "SELECT line, direction, COUNT(*) FROM line_crossings "
        "WHERE camera = ? AND ts >= ? AND ts < ? GROUP BY line, direction",
        (camera, s, e),
    ):
        out.setdefault(line, {"in": 0, "out": 0})[direction] = int(n)
    return out


def occupancy_now(
    session: Session, max_age_s: float = 300.0, now: float | None = None
) -> dict[str, int]:
    """Latest stored occupancy per zone, if sampled within `max_age_s` (index lookups only)."""
    since = (now or time.time()) - max_age_s
    conn = session.connection()
    zones = [
        z
        for (z,) in conn.exec_driver_sql(
            "SELECT DISTINCT name FROM rollups WHERE scope = 'zone' AND bucket_start >= ?",
            (since - 900,),
        )
    ]
    out: dict[str, int] = {}
    for z in zones:
        row = conn.exec_driver_sql(
            "SELECT count, ts FROM occupancy_samples WHERE zone = ? ORDER BY ts DESC LIMIT 1", (z,)
        ).first()
        if row is not None and row[1] >= since:
            out[z] = int(row[0])
    return out


def open_visits(session: Session, zone: str | None = None) -> list[ZoneVisit]:
    q = select(ZoneVisit).where(ZoneVisit.exit_ts.is_(None))
    if zone:
        q = q.where(ZoneVisit.zone == zone)
    return list(session.scalars(q.order_by(ZoneVisit.enter_ts)))


def alerts(
    session: Session, *, unacknowledged_only: bool = False, limit: int = 100
) -> list[AlertRow]:
    q = select(AlertRow).order_by(AlertRow.ts.desc()).limit(limit)
    if unacknowledged_only:
        q = q.where(AlertRow.acknowledged_at.is_(None))
    return list(session.scalars(q))


def latest_occupancy_samples(
    session: Session, zone: str, limit: int = 100
) -> list[OccupancySample]:
    q = select(OccupancySample).where(OccupancySample.zone == zone)
    return list(session.scalars(q.order_by(OccupancySample.ts.desc()).limit(limit)))
