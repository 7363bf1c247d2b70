"""What the dashboard shows, read from the store (in a worker thread, never the GUI's).

Counts come from the 15-minute rollups the store writer maintains (scopes: line,
zone, entrance, camera), dwell times from closed zone visits, alerts from the alerts
table. Days are the store's local days (its time zone).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.config import AppConfig
from app.store.models import AlertRow, Rollup, ZoneVisit

DWELL_BINS_S = [0, 10, 30, 60, 120, 300, 600, 1200, 1800]


@dataclass
class AlertItem:
    id: str
    kind: str
    message: str
    camera: str
    zone: str
    ts: float


@dataclass
class DashboardData:
    day_start: float
    entries: int = 0
    exits: int = 0
    passersby: int = 0
    has_entrances: bool = False
    footfall_today: list[int] = field(default_factory=lambda: [0] * 24)
    footfall_last_week: list[int] = field(default_factory=lambda: [0] * 24)
    occupancy_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    dwell_by_zone: dict[str, float] = field(default_factory=dict)  # mean seconds
    visits_by_zone: dict[str, int] = field(default_factory=dict)
    dwell_hist: list[int] = field(default_factory=lambda: [0] * len(DWELL_BINS_S))
    alerts: list[AlertItem] = field(default_factory=list)

    @property
    def capture_rate(self) -> float | None:
        """Share of people at the entrance who came in (entries / (entries + passers-by))."""
        total = self.entries + self.passersby
        return None if not self.has_entrances or total == 0 else self.entries / total


def day_bounds(tz: str, now: float) -> tuple[float, float]:
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(now, zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def _hour(ts: float, tz: ZoneInfo) -> int:
    return datetime.fromtimestamp(ts, tz).hour


def _hourly(rows: list[Any], tz: ZoneInfo, idx: int) -> list[int]:
    out = [0] * 24
    for r in rows:
        out[_hour(float(r[0]), tz)] += int(r[idx])
    return out


def load_dashboard(store: Any, cfg: AppConfig, now: float | None = None) -> DashboardData:
    now = time.time() if now is None else now
    tz = ZoneInfo(cfg.store.timezone)
    start, end = day_bounds(cfg.store.timezone, now)
    data = DashboardData(day_start=start)
    week_ago = (start - 7 * 86400, end - 7 * 86400)
    cols = (
        Rollup.bucket_start,
        Rollup.entries,
        Rollup.exits,
        Rollup.passersby,
        Rollup.occupancy_peak,
    )
    with store.read_session() as s:

        def rollups(scope: str, lo: float, hi: float) -> list[Any]:
            q = select(*cols).where(
                Rollup.scope == scope, Rollup.bucket_start >= lo, Rollup.bucket_start < hi
            )
            return list(s.execute(q).all())

        entrance = rollups("entrance", start, end)
        line = rollups("line", start, end)
        data.has_entrances = bool(cfg.entrances) or bool(entrance)
        counted = entrance if data.has_entrances else line
        data.entries = sum(int(r[1]) for r in counted)
        data.exits = sum(int(r[2]) for r in line)
        data.passersby = sum(int(r[3]) for r in entrance)
        data.footfall_today = _hourly(counted, tz, 1)
        last = rollups("entrance" if data.has_entrances else "line", *week_ago)
        data.footfall_last_week = _hourly(last, tz, 1)
        zone_rows = rollups("zone", start, end)
        per_bucket: dict[float, int] = {}
        for r in zone_rows:
            per_bucket[float(r[0])] = per_bucket.get(float(r[0]), 0) + int(r[4])
        for b, peak in per_bucket.items():
            h = _hour(b, tz)
            data.occupancy_by_hour[h] = max(data.occupancy_by_hour[h], peak)
        dwell = s.execute(
            select(Rollup.name, func.sum(Rollup.dwell_sum_s), func.sum(Rollup.dwell_count))
            .where(Rollup.scope == "zone", Rollup.bucket_start >= start, Rollup.bucket_start < end)
            .group_by(Rollup.name)
        ).all()
        for name, total, count in dwell:
            if count:
                data.dwell_by_zone[str(name)] = float(total) / int(count)
                data.visits_by_zone[str(name)] = int(count)
        visits = s.scalars(
            select(ZoneVisit.dwell_s).where(
                ZoneVisit.enter_ts >= start,
                ZoneVisit.enter_ts < end,
                ZoneVisit.dwell_s.is_not(None),
            )
        ).all()
        for d in visits:
            i = max(k for k, lo in enumerate(DWELL_BINS_S) if float(d) >= lo)
            data.dwell_hist[i] += 1
        alerts = s.scalars(
            select(AlertRow)
            .where(AlertRow.acknowledged_at.is_(None))
            .order_by(AlertRow.ts.desc())
            .limit(50)
        ).all()
        data.alerts = [AlertItem(a.id, a.kind, a.message, a.camera, a.zone, a.ts) for a in alerts]
    return data


def acknowledge(store: Any, alert_id: str, who: str = "desktop") -> Any:
    """Mark an alert acknowledged (store writer thread); returns the Future."""

    def work(s: Any) -> bool:
        row = s.get(AlertRow, alert_id)
        if row is None:
            return False
        row.acknowledged_at, row.acknowledged_by = time.time(), who
        return True

    return store.writer.submit(work)
