"""Staffing adequacy and the bottleneck per store over a period, from the hourly KPIs
the stores send (`kpi_hours`; app/kpis.py defines them, the store computes them).

Per store, over its local days a..b: staffing adequacy = the mean of the hours'
adequacy (hours where someone was needed), understaffed hours = hours below 1.0, and
the bottleneck = the hour with the highest score, the store's own or a zone's (the
zone named), with its local time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text

SQL = text(
    """
WITH h AS (
  SELECT k.store_id, k.bucket_start, s.timezone, k.staffing_adequacy,
         GREATEST(COALESCE(k.bottleneck, -1), COALESCE(k.worst_zone_score, -1)) AS score,
         CASE WHEN COALESCE(k.worst_zone_score, -1) > COALESCE(k.bottleneck, -1)
              THEN k.worst_zone ELSE '(store)' END AS zone
  FROM kpi_hours k JOIN stores s USING (store_id)
  WHERE k.store_id = ANY(:ids) AND k.bucket_start >= :lo AND k.bucket_start < :hi
    AND CAST(k.bucket_start AT TIME ZONE s.timezone AS date) BETWEEN :a AND :b
),
agg AS (
  SELECT store_id, AVG(staffing_adequacy) AS adequacy,
         COUNT(staffing_adequacy) AS staffed_hours,
         COUNT(*) FILTER (WHERE staffing_adequacy < 1) AS understaffed
  FROM h GROUP BY store_id
),
worst AS (
  SELECT DISTINCT ON (store_id) store_id, score, zone,
         to_char(bucket_start AT TIME ZONE timezone, 'YYYY-MM-DD HH24:00') AS hour
  FROM h WHERE score >= 0 ORDER BY store_id, score DESC, bucket_start
)
SELECT agg.store_id, agg.adequacy, agg.staffed_hours, agg.understaffed,
       worst.score, worst.zone, worst.hour
FROM agg LEFT JOIN worst USING (store_id)
"""
)


@dataclass(frozen=True)
class StaffingBottleneck:
    staffing_adequacy: float | None = None
    staffed_hours: int = 0
    understaffed_hours: int | None = None
    bottleneck: float | None = None
    bottleneck_zone: str = ""
    bottleneck_hour: str = ""  # the store's local time, YYYY-MM-DD HH:00


def per_store(
    engine: Engine, ids: Sequence[str], a: date, b: date
) -> dict[str, StaffingBottleneck]:
    params = {
        "ids": list(ids), "a": a, "b": b,
        "lo": datetime.combine(a - timedelta(days=1), datetime.min.time(), UTC),
        "hi": datetime.combine(b + timedelta(days=2), datetime.min.time(), UTC),
    }  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(SQL, params).all()
    return {
        r.store_id: StaffingBottleneck(
            None if r.adequacy is None else float(r.adequacy), int(r.staffed_hours),
            int(r.understaffed) if r.staffed_hours else None,
            None if r.score is None else float(r.score), r.zone or "", r.hour or "",
        )
        for r in rows
    }  # fmt: skip


def chain(rows: Sequence[StaffingBottleneck]) -> StaffingBottleneck:
    """The chain's: adequacy weighted by each store's staffed hours, the worst hour."""
    staffed = [r for r in rows if r.staffing_adequacy is not None and r.staffed_hours]
    n = sum(r.staffed_hours for r in staffed)
    adequacy = (
        sum((r.staffing_adequacy or 0.0) * r.staffed_hours for r in staffed) / n if n else None
    )
    worst = max((r for r in rows if r.bottleneck is not None), key=lambda r: r.bottleneck or 0.0,
                default=None)  # fmt: skip
    return StaffingBottleneck(
        adequacy, n, sum(r.understaffed_hours or 0 for r in staffed) if staffed else None,
        worst.bottleneck if worst else None, worst.bottleneck_zone if worst else "",
        worst.bottleneck_hour if worst else "",
    )  # fmt: skip
