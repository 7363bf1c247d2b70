"""What the dashboard shows, read from the store (in a worker thread, never the GUI's).

Entries, passers-by, capture rate and footfall per hour come from the store's
report functions (`app.store.reports`, over the 15-minute rollups); exits and hourly
occupancy peaks are read here from the rollups; dwell (the mean, per zone, the
histogram) from the finished visits of app/store/figures.py, the same definition as
Reports', so that every screen agrees on how many visits there were. Days are the store's local days (its time zone). The open alerts come from
`app.store.alert_log`.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import AppConfig
from app.store import alert_log, figures, reports
from app.store.alert_log import Acknowledged, list_alerts
from app.store.models import Rollup
from app.sync.store_protocol import StoreLike

if TYPE_CHECKING:
    pass

DWELL_BINS_S = [0, 10, 30, 60, 120, 300, 600, 1200, 1800]


@dataclass
class AlertItem:
    id: str
    kind: str
    message: str
    camera: str
    zone: str
    ts: float  # when it opened
    acknowledged: bool = False
    count: int = 1


@dataclass
class DashboardData:
    day_start: float
    entries: int = 0
    exits: int = 0
    passersby: int = 0
    has_entrances: bool = False
    has_counting: bool = False  # a door line or an entrance exists (or counts do)
    footfall_today: list[int] = field(default_factory=lambda: [0] * 24)
    footfall_last_week: list[int] = field(default_factory=lambda: [0] * 24)
    # whether the store already had data on the same day last week (else no line: a
    # flat line at 0 would read as a week with nobody in)
    last_week_known: bool = False
    occupancy_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    hours_so_far: int = 24  # today's hours begun (later ones are not plotted, not 0)
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


def _hours_of(counts: list[Any]) -> list[int]:
    out = [0] * 24
    for c in counts:
        out[c.hour.hour] += int(c.entries)
    return out


def load_dashboard(store: Any, cfg: AppConfig, now: float | None = None) -> DashboardData:
    """Today's figures through `app.store.reports`, plus exits, hourly occupancy peaks and
    the dwell histogram (not report functions: read here from rollups and visits)."""
    now = time.time() if now is None else now
    tz = ZoneInfo(cfg.store.timezone)
    start, end = day_bounds(cfg.store.timezone, now)
    data = DashboardData(day_start=start)
    data.hours_so_far = min(24, int((now - start) // 3600) + 1)
    with store.read_session() as s:
        totals = reports.today_totals(s, tz, now)
        data.entries, data.passersby = totals.entries, totals.passersby
        data.has_entrances = totals.capture_rate is not None or bool(cfg.entrances)
        doors = any(ln.door for ln in cfg.lines)
        data.has_counting = bool(doors or cfg.entrances or totals.entries)
        data.footfall_today = _hours_of(reports.footfall_per_hour(s, start, end, tz))
        week = 7 * 86400
        data.footfall_last_week = _hours_of(
            reports.footfall_per_hour(s, start - week, end - week, tz)
        )
        first = s.scalar(select(func.min(Rollup.bucket_start)))
        data.last_week_known = first is not None and float(first) < end - week
        # exits: the out-crossings of the door lines (lines inside the store are rolled
        # up apart); with entrances, entries are theirs, so exits are their lines' only
        exit_lines = select(Rollup.exits).where(
            Rollup.scope == "line", Rollup.bucket_start >= start, Rollup.bucket_start < end
        )
        if cfg.entrances:
            exit_lines = exit_lines.where(Rollup.name.in_([e.line for e in cfg.entrances]))
        data.exits = sum(int(x or 0) for x in s.scalars(exit_lines))
        in_store = select(Rollup.bucket_start, func.sum(Rollup.occupancy_peak)).where(
            Rollup.scope == "zone", Rollup.bucket_start >= start, Rollup.bucket_start < end
        )
        outside = [z.name for z in cfg.zones if not z.in_store]
        if outside:  # areas outside the store are no part of its occupancy
            in_store = in_store.where(Rollup.name.not_in(outside))
        peaks = s.execute(in_store.group_by(Rollup.bucket_start)).all()
        for b, peak in peaks:
            h = datetime.fromtimestamp(float(b), tz).hour
            data.occupancy_by_hour[h] = max(data.occupancy_by_hour[h], int(peak or 0))
        # finished visits (app/store/figures.py): one definition for the mean dwell
        # card, the per-zone list and the histogram, the same as Reports'
        for z in figures.zone_figures(s, start, end).values():
            if z.finished_visits:
                data.visits_by_zone[z.zone] = z.finished_visits
                data.dwell_by_zone[z.zone] = z.mean_dwell_s
        for _zone, d in figures.finished_visit_dwells(s, start, end):
            i = max(k for k, lo in enumerate(DWELL_BINS_S) if d >= lo)
            data.dwell_hist[i] += 1
        data.alerts = open_alert_items(s)
    return data


def open_alert_items(s: Session) -> list[AlertItem]:
    """The store's open alerts (for the list and its badge)."""
    return [
        AlertItem(a.id, a.kind, a.message, a.camera, a.zone, a.opened_at,
                  a.acknowledged_at is not None, a.count)
        for a in list_alerts(s)
    ]  # fmt: skip


def load_open_alerts(store: StoreLike) -> list[AlertItem]:
    with store.read_session() as s:
        return open_alert_items(s)


def acknowledge(
    store: StoreLike, ids: list[str] | None, who: str = "desktop"
) -> Future[Acknowledged]:
    """Acknowledge alerts (None: every open one) through the store's writer; the
    change goes to HQ too."""
    return alert_log.acknowledge(store, ids, who)
