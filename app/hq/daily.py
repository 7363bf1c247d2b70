"""`store_days`: one row per store and local day, kept current by the ingest.

After a batch is stored, the local days its rows touch are recomputed from the
15-minute tables of that store only (a few hundred rows per day), so every dashboard
query reads ~365 rows per store and year instead of ~35 000 per rollup series.
Footfall and passers-by are the entrance rollups (the counting lines' when a store has
no entrance that day), as in app.hq.queries; occupancy_peak is the day's highest sum of
the cameras' 15-minute occupancy peaks (an upper bound when cameras overlap).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

REFRESH_SQL = text(
    """
WITH foot AS (
  SELECT CAST(bucket_start AT TIME ZONE :tz AS date) AS day,
         SUM(entries) FILTER (WHERE scope = 'entrance') AS ent_in,
         SUM(passersby) FILTER (WHERE scope = 'entrance') AS ent_pass,
         COUNT(*) FILTER (WHERE scope = 'entrance') AS ent_rows,
         SUM(entries) FILTER (WHERE scope = 'line') AS line_in,
         SUM(passersby) FILTER (WHERE scope = 'line') AS line_pass
  FROM rollups WHERE store_id = :s AND scope IN ('entrance', 'line')
    AND bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1
),
occ AS (
  SELECT day, MAX(occ) AS occ FROM (
    SELECT CAST(bucket_start AT TIME ZONE :tz AS date) AS day, SUM(occupancy_peak) AS occ
    FROM rollups WHERE store_id = :s AND scope = 'camera'
      AND bucket_start >= :lo AND bucket_start < :hi
    GROUP BY bucket_start) b GROUP BY day
),
sales AS (
  SELECT CAST(bucket_start AT TIME ZONE :tz AS date) AS day,
         SUM(transactions) AS transactions, SUM(revenue) AS revenue
  FROM sales_aggs WHERE store_id = :s AND bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1
),
sess AS (
  SELECT CAST(bucket_start AT TIME ZONE :tz AS date) AS day,
         SUM(sessions) AS sessions, SUM(converted_sessions) AS converted_sessions
  FROM session_aggs WHERE store_id = :s AND bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1
)
INSERT INTO store_days AS t (store_id, day, footfall, passersby, transactions, revenue,
                             sessions, converted_sessions, occupancy_peak)
SELECT :s, day,
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_in ELSE foot.line_in END, 0),
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_pass ELSE foot.line_pass END, 0),
       COALESCE(sales.transactions, 0), COALESCE(sales.revenue, 0),
       COALESCE(sess.sessions, 0), COALESCE(sess.converted_sessions, 0),
       COALESCE(occ.occ, 0)
FROM foot FULL JOIN sales USING (day) FULL JOIN sess USING (day) FULL JOIN occ USING (day)
WHERE day BETWEEN :d_from AND :d_to
ON CONFLICT (store_id, day) DO UPDATE SET
  footfall = EXCLUDED.footfall, passersby = EXCLUDED.passersby,
  transactions = EXCLUDED.transactions, revenue = EXCLUDED.revenue,
  sessions = EXCLUDED.sessions, converted_sessions = EXCLUDED.converted_sessions,
  occupancy_peak = EXCLUDED.occupancy_peak
"""
)

DAY_KINDS = frozenset({"rollup", "sales_agg", "session_agg"})


def touched_days(rows: Iterable[Mapping[str, Any]], timezone: str) -> tuple[date, date] | None:
    """The first and last local day that a batch's day-level rows fall on."""
    tz = ZoneInfo(timezone)
    stamps = [float(r["data"]["bucket_start"]) for r in rows if r["kind"] in DAY_KINDS]
    if not stamps:
        return None
    lo, hi = min(stamps), max(stamps)
    return (
        datetime.fromtimestamp(lo, UTC).astimezone(tz).date(),
        datetime.fromtimestamp(hi, UTC).astimezone(tz).date(),
    )


def refresh(conn: Connection, store_id: str, timezone: str, d_from: date, d_to: date) -> None:
    """Recompute the store's local days d_from..d_to from the 15-minute tables."""
    params = {
        "s": store_id,
        "tz": timezone,
        "d_from": d_from,
        "d_to": d_to,
        "lo": datetime.combine(d_from - timedelta(days=1), datetime.min.time(), UTC),
        "hi": datetime.combine(d_to + timedelta(days=2), datetime.min.time(), UTC),
    }
    conn.execute(REFRESH_SQL, params)


# REFRESH_SQL for every store at once, each in its own time zone
BACKFILL_SQL = text(
    """
WITH foot AS (
  SELECT store_id, CAST(bucket_start AT TIME ZONE z.timezone AS date) AS day,
         SUM(entries) FILTER (WHERE scope = 'entrance') AS ent_in,
         SUM(passersby) FILTER (WHERE scope = 'entrance') AS ent_pass,
         COUNT(*) FILTER (WHERE scope = 'entrance') AS ent_rows,
         SUM(entries) FILTER (WHERE scope = 'line') AS line_in,
         SUM(passersby) FILTER (WHERE scope = 'line') AS line_pass
  FROM rollups JOIN stores z USING (store_id) WHERE scope IN ('entrance', 'line')
    AND bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1, 2
),
occ AS (
  SELECT store_id, day, MAX(occ) AS occ FROM (
    SELECT store_id, CAST(bucket_start AT TIME ZONE z.timezone AS date) AS day, SUM(occupancy_peak) AS occ
    FROM rollups JOIN stores z USING (store_id) WHERE scope = 'camera'
      AND bucket_start >= :lo AND bucket_start < :hi
    GROUP BY store_id, z.timezone, bucket_start) b GROUP BY store_id, day
),
sales AS (
  SELECT store_id, CAST(bucket_start AT TIME ZONE z.timezone AS date) AS day,
         SUM(transactions) AS transactions, SUM(revenue) AS revenue
  FROM sales_aggs JOIN stores z USING (store_id) WHERE bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1, 2
),
sess AS (
  SELECT store_id, CAST(bucket_start AT TIME ZONE z.timezone AS date) AS day,
         SUM(sessions) AS sessions, SUM(converted_sessions) AS converted_sessions
  FROM session_aggs JOIN stores z USING (store_id) WHERE bucket_start >= :lo AND bucket_start < :hi
  GROUP BY 1, 2
)
INSERT INTO store_days AS t (store_id, day, footfall, passersby, transactions, revenue,
                             sessions, converted_sessions, occupancy_peak)
SELECT store_id, day,
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_in ELSE foot.line_in END, 0),
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_pass ELSE foot.line_pass END, 0),
       COALESCE(sales.transactions, 0), COALESCE(sales.revenue, 0),
       COALESCE(sess.sessions, 0), COALESCE(sess.converted_sessions, 0),
       COALESCE(occ.occ, 0)
FROM foot FULL JOIN sales USING (store_id, day) FULL JOIN sess USING (store_id, day) FULL JOIN occ USING (store_id, day)
WHERE store_id IS NOT NULL
ON CONFLICT (store_id, day) DO UPDATE SET
  footfall = EXCLUDED.footfall, passersby = EXCLUDED.passersby,
  transactions = EXCLUDED.transactions, revenue = EXCLUDED.revenue,
  sessions = EXCLUDED.sessions, converted_sessions = EXCLUDED.converted_sessions,
  occupancy_peak = EXCLUDED.occupancy_peak
"""
)


def backfill(conn: Connection, lo: datetime, hi: datetime) -> None:
    """Recompute store_days of every store from the 15-minute rows in [lo, hi) (UTC):
    the migration's first fill, and the bench's. Days cut by lo/hi get partial sums, so
    pass whole days with a day of margin."""
    conn.execute(BACKFILL_SQL, {"lo": lo, "hi": hi})
