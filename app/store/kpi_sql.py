"""The period KPIs' sources: the settings they need (`KpiParams`), the store's rows
read per local hour for any range of time (footfall, people in the store, zone hours,
salespeople on duty, queue waits, sales), and the inputs a period's KPIs are
assembled from. Read over a whole period by `kpi_queries.period_kpis_direct`, per day
by the per-day cache (app/store/kpi_cache.py)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app import kpis
from app.alerts import QUEUE_LENGTH, QUEUE_WAIT
from app.config import AppConfig
from app.store import reports
from app.store.figures import not_staff

LAST_YEAR = timedelta(days=364)  # 52 weeks: weekdays line up
BASELINE_WEEKS = 8
WAIT_BINS_S = (0, 30, 60, 120, 180, 300, 600)
SERVICE_GRACE_S = 60.0
# a queue visit that ended in a period started at most this long before it (so that the
# (zone, enter_ts) index bounds the scan)
MAX_WAIT_S = 86400.0
# a service session counts at most this long (one left open is a forgotten one); the
# on-duty query looks this far back for sessions still running at a period's start
MAX_SESSION_S = 4 * 3600.0
STORE = "whole store"
# one local hour of footfall of one day: hour, the entrance rollups' entries, passers-by
# and whether it has any, the door lines' entries and whether it has any
FootHour = tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class KpiParams:
    """What the KPIs need from the settings."""

    tz: ZoneInfo
    capacity: int | None = None
    visitors_per_salesperson: float | None = None
    wait_target_s: float = kpis.DEFAULT_WAIT_TARGET_S
    queue_zones: tuple[str, ...] = ()
    queue_service: dict[str, str] = field(default_factory=dict)
    outside_zones: tuple[str, ...] = ()
    zone_capacity: dict[str, int] = field(default_factory=dict)
    zones: tuple[str, ...] = ()  # the configured zones (bottlenecks); () = every zone
    schedule: Callable[[int, int], int | None] = lambda weekday, hour: None

    @classmethod
    def from_config(cls, cfg: AppConfig) -> KpiParams:
        k = cfg.kpis
        return cls(
            tz=ZoneInfo(cfg.store.timezone),
            capacity=k.capacity,
            visitors_per_salesperson=k.visitors_per_salesperson,
            wait_target_s=k.wait_target_s,
            queue_zones=tuple(z.name for z in cfg.zones if z.kind == "queue"),
            queue_service=dict(k.queue_service),
            outside_zones=tuple(z.name for z in cfg.zones if not z.in_store),
            zone_capacity={z.name: z.capacity for z in cfg.zones if z.capacity},
            zones=tuple(z.name for z in cfg.zones),
            schedule=k.scheduled,
        )


@dataclass(frozen=True)
class HourKpis:
    hour_start: float  # epoch seconds of the local hour
    visitors: int
    passersby: int
    people_peak: int
    on_duty: int | None
    queue_wait_s: float | None
    congestion: float | None
    utilisation: float | None
    staffing_adequacy: float | None
    bottleneck: float | None


@dataclass(frozen=True)
class ZoneHour:
    hour_start: float
    zone: str
    zone_entries: int
    people_peak: int
    queue_wait_s: float | None
    on_duty: int | None
    congestion: float | None
    staffing_adequacy: float | None
    bottleneck: float | None


@dataclass(frozen=True)
class QueueStats:
    zone: str
    service_zone: str
    waits: int  # finished queue visits
    mean_wait_s: float | None
    wait_hist: list[int]  # per WAIT_BINS_S bin
    abandoned: int | None  # None without a service zone
    abandonment: float | None
    alerts: int
    by_hour: dict[float, tuple[int, float]]  # hour -> (waits, mean wait s)


def day_start(d: date, tz: ZoneInfo) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


class _Hours:
    """Local hour keys computed in SQL: the zone's offset modulo one hour is the same all
    year (daylight saving moves whole hours), so a local hour starts where
    (epoch + offset) is a multiple of 3600."""

    def __init__(self, tz: ZoneInfo, at: float) -> None:
        off = datetime.fromtimestamp(at, tz).utcoffset()
        self.off = int(off.total_seconds()) % 3600 if off else 0

    def sql(self, col: str) -> str:
        return f"(CAST(({col} + {self.off}) / 3600 AS INTEGER) * 3600 - {self.off})"


def _hourly_footfall(
    s: Session, start: float, end: float, hours: _Hours
) -> tuple[dict[float, tuple[int, int]], bool]:
    scope = reports._footfall_scope(s, start, end)
    rows = s.connection().exec_driver_sql(
        f"SELECT {hours.sql('bucket_start')} AS h, SUM(entries), SUM(passersby) FROM rollups "
        "WHERE scope = ? AND bucket_start >= ? AND bucket_start < ? GROUP BY h",
        (scope, start, end),
    )
    entrance = scope == "entrance"
    return {float(h): (int(e or 0), int(p or 0) if entrance else 0) for h, e, p in rows}, entrance


def _footfall_both(s: Session, start: float, end: float, hours: _Hours) -> list[FootHour]:
    """Per local hour the entrance rollups' entries and passers-by and the door lines'
    entries, each with whether that scope has rows in the hour: what `_hourly_footfall`
    picks from, for one day (app/store/kpi_cache.py)."""
    acc: dict[int, list[int]] = {}
    for h, scope, e, p in s.connection().exec_driver_sql(
        f"SELECT {hours.sql('bucket_start')} AS h, scope, SUM(entries), SUM(passersby) "
        "FROM rollups WHERE scope IN ('entrance', 'line') AND bucket_start >= ? "
        "AND bucket_start < ? GROUP BY h, scope",
        (start, end),
    ):
        a = acc.setdefault(int(h), [0, 0, 0, 0, 0])
        if scope == "entrance":
            a[0], a[1], a[2] = int(e or 0), int(p or 0), 1
        else:
            a[3], a[4] = int(e or 0), 1
    return [(h, *v) for h, v in sorted(acc.items())]  # type: ignore[misc]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _people_per_hour(
    s: Session, start: float, end: float, hours: _Hours, outside: Sequence[str]
) -> dict[float, int]:
    skip = f"AND name NOT IN ({_marks(len(outside))})" if outside else ""
    rows = s.connection().exec_driver_sql(
        f"SELECT {hours.sql('b')} AS h, MAX(n) FROM (SELECT bucket_start AS b, "
        "SUM(occupancy_peak) AS n FROM rollups WHERE scope = 'zone' AND bucket_start >= ? "
        f"AND bucket_start < ? {skip} GROUP BY bucket_start) GROUP BY h",
        (start, end, *outside),
    )
    return {float(h): int(n or 0) for h, n in rows}


def _zone_hours(
    s: Session, start: float, end: float, hours: _Hours, only: Sequence[str] = ()
) -> dict[tuple[float, str], tuple[int, int]]:
    some = f"AND name IN ({_marks(len(only))})" if only else ""
    rows = s.connection().exec_driver_sql(
        f"SELECT {hours.sql('bucket_start')} AS h, name, SUM(entries), MAX(occupancy_peak) "
        f"FROM rollups WHERE scope = 'zone' AND bucket_start >= ? AND bucket_start < ? {some} "
        "GROUP BY h, name",
        (start, end, *only),
    )
    return {(float(h), str(z)): (int(e or 0), int(p or 0)) for h, z, e, p in rows}


def _on_duty(
    s: Session, start: float, end: float, hours: _Hours
) -> tuple[dict[float, int], dict[tuple[float, str], int]]:
    """Salespeople with a service session in each local hour, store-wide and per zone:
    a session counts in every hour from its start to its end (an open one: 15 minutes;
    at most MAX_SESSION_S: a session left open longer is a forgotten one)."""
    end_ts = f"MIN(COALESCE(ended_at, started_at + 900), started_at + {MAX_SESSION_S})"
    rows = s.connection().exec_driver_sql(
        f"WITH RECURSIVE h(pid, zone, at, stop) AS ("
        f" SELECT salesperson_id, zone, {hours.sql('MAX(started_at, ?)')}, MIN({end_ts}, ?)"
        " FROM service_sessions WHERE started_at >= ? AND started_at < ?"
        f" AND {end_ts} > ?"
        " UNION ALL SELECT pid, zone, at + 3600, stop FROM h WHERE at + 3600 < stop)"
        " SELECT at, zone, COUNT(DISTINCT pid), NULL FROM h GROUP BY at, zone"
        " UNION ALL SELECT at, NULL, COUNT(DISTINCT pid), 1 FROM h GROUP BY at",
        (start, end, start - MAX_SESSION_S, end, start),
    )
    store: dict[float, int] = {}
    zone: dict[tuple[float, str], int] = {}
    for at, z, n, whole in rows:
        if whole:
            store[float(at)] = int(n)
        else:
            zone[(float(at), str(z))] = int(n)
    return store, zone


@dataclass
class QueuePart:
    """A queue area's raw figures over some hours: what adds up across days."""

    service_zone: str
    hours: dict[float, tuple[int, float]] = field(default_factory=dict)  # h -> (n, sum s)
    hist: list[int] = field(default_factory=lambda: [0] * len(WAIT_BINS_S))
    abandoned: int | None = None
    alerts: int = 0

    def add(self, o: QueuePart) -> None:
        self.hours.update(o.hours)  # days never share an hour
        self.hist = [a + b for a, b in zip(self.hist, o.hist, strict=True)]
        if o.abandoned is not None:
            self.abandoned = (self.abandoned or 0) + o.abandoned
        self.alerts += o.alerts

    def stats(self, zone: str) -> QueueStats:
        n = sum(c for c, _ in self.hours.values())
        mean_wait = math.fsum(t for _, t in self.hours.values()) / n if n else None
        return QueueStats(
            zone=zone, service_zone=self.service_zone, waits=n, mean_wait_s=mean_wait,
            wait_hist=list(self.hist), abandoned=self.abandoned,
            abandonment=None if self.abandoned is None else kpis.abandonment(self.abandoned, n),
            alerts=self.alerts,
            by_hour={h: (c, t / c) for h, (c, t) in sorted(self.hours.items())},
        )  # fmt: skip


def _queue_parts(
    s: Session, p: KpiParams, start: float, end: float, hours: _Hours
) -> dict[str, QueuePart]:
    """The finished visits of each queue area that ended in [start, end) (a visit longer
    than MAX_WAIT_S is not a wait), their wait per hour (count, exact sum), histogram,
    abandonment and the queue alerts."""
    conn = s.connection()
    out: dict[str, QueuePart] = {}
    staff = not_staff(s) if p.queue_zones else ""
    for qz in p.queue_zones:
        rows = conn.exec_driver_sql(
            f"SELECT {hours.sql('exit_ts')}, dwell_s, visitor_id, enter_ts, exit_ts "
            "FROM zone_visits WHERE zone = ? AND enter_ts >= ? AND enter_ts < ? "
            "AND exit_ts >= ? AND exit_ts < ? AND dwell_s IS NOT NULL "
            f"AND exit_ts - enter_ts <= ? {staff}",
            (qz, start - MAX_WAIT_S, end, start, end, MAX_WAIT_S),
        ).all()
        svc = p.queue_service.get(qz, "")
        part = QueuePart(svc)
        per_hour: dict[float, list[float]] = defaultdict(list)
        for h, d, *_ in rows:
            part.hist[bisect_right(WAIT_BINS_S, d) - 1] += 1
            per_hour[float(h)].append(float(d))
        part.hours = {h: (len(v), math.fsum(v)) for h, v in per_hour.items()}
        if svc:  # a merge in memory: both reads are covered by the (zone, enter_ts) index
            reached: dict[str, list[float]] = defaultdict(list)
            for vid, t in conn.exec_driver_sql(
                "SELECT visitor_id, enter_ts FROM zone_visits WHERE zone = ? AND enter_ts >= ? "
                "AND enter_ts < ?",
                (svc, start - MAX_WAIT_S, end + SERVICE_GRACE_S),
            ):
                reached[str(vid)].append(float(t))
            part.abandoned = 0
            for _, _, vid, a, b in rows:
                ts = reached.get(str(vid), ())
                if not any(a <= t <= float(b) + SERVICE_GRACE_S for t in ts):
                    part.abandoned += 1
        part.alerts = int(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM alerts WHERE ts >= ? AND ts < ? AND kind IN (?, ?) "
                "AND (zone = ? OR subject = ?)",
                (start, end, QUEUE_LENGTH, QUEUE_WAIT, qz, qz),
            ).scalar()
            or 0
        )
        out[qz] = part
    return out


def _queue_stats(
    s: Session, p: KpiParams, start: float, end: float, hours: _Hours
) -> list[QueueStats]:
    return [part.stats(qz) for qz, part in _queue_parts(s, p, start, end, hours).items()]


def _revenue_by_hour(s: Session, start: float, end: float, hours: _Hours) -> dict[float, float]:
    rows = s.connection().exec_driver_sql(
        f"SELECT {hours.sql('ts')} AS h, SUM(amount) FROM purchases WHERE ts >= ? AND ts < ? "
        "GROUP BY h",
        (start, end),
    )
    return {float(h): float(a or 0.0) for h, a in rows}


def _sales(s: Session, start: float, end: float, hours: _Hours) -> tuple[int, float]:
    """Distinct POS transactions and revenue (the exact sum of the hours' sums: what the
    per-day cache adds up the same way)."""
    tx = (
        s.connection()
        .exec_driver_sql(
            "SELECT COUNT(DISTINCT transaction_id) FROM purchases WHERE ts >= ? AND ts < ?",
            (start, end),
        )
        .scalar()
    )
    return int(tx or 0), math.fsum(_revenue_by_hour(s, start, end, hours).values())


def _local_hour(h: float, tz: ZoneInfo) -> tuple[int, int]:
    t = datetime.fromtimestamp(h, tz)
    return t.weekday(), t.hour


@dataclass
class Inputs:
    """What the KPIs of a period are computed from: read over the whole period at once
    (`period_kpis_direct`) or added up from per-day parts (app/store/kpi_cache.py)."""

    foot: dict[float, tuple[int, int]]  # local hour -> (entries, passers-by), history too
    has_entrances: bool
    transactions: int
    revenue: float
    people: dict[float, int]
    duty_store: dict[float, int]
    duty_zone: dict[tuple[float, str], int]
    queues: list[QueueStats]
    zone_hours: dict[tuple[float, str], tuple[int, int]]


def history_first(first: date, last: date) -> date:
    """The first day whose visitors the traffic index and the momentum look at."""
    return min(first - timedelta(weeks=BASELINE_WEEKS), last - timedelta(days=27))


def first_data_day(s: Session, tz: ZoneInfo) -> date | None:
    first = s.connection().exec_driver_sql("SELECT MIN(bucket_start) FROM rollups").scalar()
    return None if first is None else datetime.fromtimestamp(float(first), tz).date()
