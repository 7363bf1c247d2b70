"""What the dashboard reads from PostgreSQL: stores with their health, period totals
per store (from `store_days`), weekday baselines, daily series, promotions.

Every function takes the store ids the user may see (app.hq.stores.visible_ids) and
reads nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

STORES_SQL = text(
    """
WITH cams AS (
  SELECT DISTINCT ON (store_id, camera) store_id, camera, last_status
  FROM camera_health WHERE bucket_start > now() - interval '2 hours'
  ORDER BY store_id, camera, bucket_start DESC
),
cam AS (
  SELECT store_id, COUNT(*) FILTER (WHERE last_status = 'live') AS live, COUNT(*) AS total
  FROM cams GROUP BY store_id
),
al AS (
  SELECT store_id, COUNT(*) AS open_alerts FROM alerts
  WHERE acknowledged_at IS NULL GROUP BY store_id
),
last_day AS (SELECT store_id, MAX(day) AS data_until FROM store_days GROUP BY store_id),
aud AS (
  SELECT DISTINCT ON (store_id) store_id, ts AS audit_at, accuracy AS audit_accuracy,
         line AS audit_line
  FROM count_audits ORDER BY store_id, ts DESC
)
SELECT s.store_id, s.name, s.timezone, s.last_batch_at, s.disabled,
       s.backlog_rows, s.backlog_oldest_at,
       COALESCE(p.region, '') AS region, p.capacity, COALESCE(p.opening_hours, '') AS hours,
       COALESCE(cam.live, 0) AS cams_live, COALESCE(cam.total, 0) AS cams_total,
       COALESCE(al.open_alerts, 0) AS open_alerts, last_day.data_until,
       aud.audit_at, aud.audit_accuracy, COALESCE(aud.audit_line, '') AS audit_line
FROM stores s LEFT JOIN store_profiles p USING (store_id)
LEFT JOIN cam USING (store_id) LEFT JOIN al USING (store_id) LEFT JOIN last_day USING (store_id)
LEFT JOIN aud USING (store_id)
ORDER BY s.store_id
"""
)


@dataclass(frozen=True)
class StoreInfo:
    store_id: str
    name: str
    timezone: str
    region: str
    capacity: int | None
    opening_hours: str
    last_batch_at: datetime | None
    disabled: bool
    cameras_live: int
    cameras_total: int
    open_alerts: int
    data_until: date | None
    backlog_rows: int | None = None  # None: the store does not report it (older version)
    backlog_oldest_at: datetime | None = None
    # the last counting audit (None: never audited)
    last_audit_at: datetime | None = None
    last_audit_accuracy: float | None = None
    last_audit_line: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "name": self.name,
            "timezone": self.timezone,
            "region": self.region,
            "capacity": self.capacity,
            "opening_hours": self.opening_hours,
            "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None,
            "disabled": self.disabled,
            "cameras_live": self.cameras_live,
            "cameras_total": self.cameras_total,
            "open_alerts": self.open_alerts,
            "data_until": self.data_until.isoformat() if self.data_until else None,
            "backlog_rows": self.backlog_rows,
            "backlog_oldest_at": (
                self.backlog_oldest_at.isoformat() if self.backlog_oldest_at else None
            ),
            "last_audit_at": self.last_audit_at.isoformat() if self.last_audit_at else None,
            "last_audit_accuracy": self.last_audit_accuracy,
            "last_audit_line": self.last_audit_line,
        }


def all_stores(engine: Engine) -> list[StoreInfo]:
    with engine.connect() as conn:
        rows = conn.execute(STORES_SQL).all()
    return [
        StoreInfo(
            r.store_id, r.name, r.timezone, r.region, r.capacity, r.hours, r.last_batch_at,
            bool(r.disabled), int(r.cams_live), int(r.cams_total), int(r.open_alerts),
            r.data_until, r.backlog_rows, r.backlog_oldest_at, r.audit_at,
            None if r.audit_accuracy is None else float(r.audit_accuracy), r.audit_line,
        )
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class Totals:
    footfall: int = 0
    passersby: int = 0
    transactions: int = 0
    revenue: float = 0.0
    sessions: int = 0
    converted_sessions: int = 0
    occupancy_peak: int = 0
    days: int = 0
    # days whose peak occupancy reached 90 % of the capacity: kpis.congestion's numerator,
    # counted in SQL so that no per-day rows leave the database
    busy_days: int = 0

    def __add__(self, o: Totals) -> Totals:
        return Totals(
            self.footfall + o.footfall,
            self.passersby + o.passersby,
            self.transactions + o.transactions,
            self.revenue + o.revenue,
            self.sessions + o.sessions,
            self.converted_sessions + o.converted_sessions,
            max(self.occupancy_peak, o.occupancy_peak),
            self.days + o.days,
            self.busy_days + o.busy_days,
        )


TOTALS_SQL = text(
    """
SELECT d.store_id, SUM(d.footfall) AS footfall, SUM(d.passersby) AS passersby,
       SUM(d.transactions) AS transactions, SUM(d.revenue) AS revenue,
       SUM(d.sessions) AS sessions, SUM(d.converted_sessions) AS converted_sessions,
       MAX(d.occupancy_peak) AS occupancy_peak, COUNT(*) AS days,
       COUNT(*) FILTER (WHERE p.capacity > 0 AND d.occupancy_peak >= 0.9 * p.capacity)
         AS busy_days
FROM store_days d LEFT JOIN store_profiles p USING (store_id)
WHERE d.store_id = ANY(:ids) AND d.day BETWEEN :a AND :b
GROUP BY d.store_id
"""
)


def period_totals(engine: Engine, ids: Sequence[str], a: date, b: date) -> dict[str, Totals]:
    with engine.connect() as conn:
        rows = conn.execute(TOTALS_SQL, {"ids": list(ids), "a": a, "b": b}).all()
    return {
        r.store_id: Totals(
            int(r.footfall), int(r.passersby), int(r.transactions), float(r.revenue),
            int(r.sessions), int(r.converted_sessions), int(r.occupancy_peak), int(r.days),
            int(r.busy_days),
        )
        for r in rows
    }  # fmt: skip


EXPECTED_SQL = text(
    """
WITH base AS (
  SELECT store_id, EXTRACT(isodow FROM day) AS dow, AVG(footfall) AS m
  FROM store_days WHERE store_id = ANY(:ids) AND day >= :b0 AND day < :a
  GROUP BY 1, 2
),
cal AS (
  SELECT EXTRACT(isodow FROM g) AS dow, COUNT(*) AS n
  FROM generate_series(CAST(:a AS date), CAST(:b AS date), interval '1 day') g GROUP BY 1
)
SELECT base.store_id, SUM(base.m * cal.n) AS expected, COUNT(*) AS dows,
       (SELECT COUNT(*) FROM cal) AS need
FROM base JOIN cal USING (dow) GROUP BY base.store_id
"""
)


def expected_footfall(
    engine: Engine, ids: Sequence[str], a: date, b: date, weeks: int = 8
) -> dict[str, float]:
    """Per store: kpis.weekday_baseline over the `weeks` weeks before `a`, in SQL.
    Stores missing a weekday of the period in their history are left out."""
    params = {"ids": list(ids), "a": a, "b": b, "b0": a - timedelta(weeks=weeks)}
    with engine.connect() as conn:
        rows = conn.execute(EXPECTED_SQL, params).all()
    return {r.store_id: float(r.expected) for r in rows if r.dows == r.need}


def daily_footfall(engine: Engine, ids: Sequence[str], a: date, b: date) -> dict[date, int]:
    """Visitors per day, summed over the stores."""
    sql = text(
        "SELECT day, SUM(footfall) AS f FROM store_days "
        "WHERE store_id = ANY(:ids) AND day BETWEEN :a AND :b GROUP BY day ORDER BY day"
    )
    with engine.connect() as conn:
        return {r.day: int(r.f) for r in conn.execute(sql, {"ids": list(ids), "a": a, "b": b})}


def store_series(
    engine: Engine, ids: Sequence[str], a: date, b: date, metric: str = "footfall"
) -> dict[str, dict[date, float]]:
    """series[store][day] of one store_days column, for uplift computations."""
    if metric not in ("footfall", "transactions", "revenue"):
        raise ValueError(f"unknown metric {metric!r}")
    sql = text(
        f"SELECT store_id, day, {metric} AS v FROM store_days "  # noqa: S608 (checked above)
        "WHERE store_id = ANY(:ids) AND day BETWEEN :a AND :b"
    )
    out: dict[str, dict[date, float]] = {s: {} for s in ids}
    with engine.connect() as conn:
        for r in conn.execute(sql, {"ids": list(ids), "a": a, "b": b}):
            out[r.store_id][r.day] = float(r.v)
    return out
