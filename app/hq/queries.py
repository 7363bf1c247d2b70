"""What HQ analysts read: footfall and conversion per store per day.

Days are the store's local calendar days (the time zone each store sends). Footfall is
the entries counted at the store's entrances (entrance rollups); a store without
entrance rollups that day falls back to its counting lines' entries. Conversion is POS
transactions per footfall; service conversion is converted sessions per session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text

DAILY_SQL = text(
    """
WITH s AS (
  SELECT store_id, name, timezone FROM stores
  WHERE CAST(:store_id AS text) IS NULL OR store_id = :store_id
),
foot AS (
  SELECT r.store_id, CAST(r.bucket_start AT TIME ZONE s.timezone AS date) AS day,
         SUM(r.entries) FILTER (WHERE r.scope = 'entrance') AS ent_in,
         SUM(r.passersby) FILTER (WHERE r.scope = 'entrance') AS ent_pass,
         COUNT(*) FILTER (WHERE r.scope = 'entrance') AS ent_rows,
         SUM(r.entries) FILTER (WHERE r.scope = 'line') AS line_in,
         SUM(r.passersby) FILTER (WHERE r.scope = 'line') AS line_pass
  FROM rollups r JOIN s ON s.store_id = r.store_id
  WHERE r.scope IN ('entrance', 'line') AND r.bucket_start >= :lo AND r.bucket_start < :hi
  GROUP BY 1, 2
),
sales AS (
  SELECT a.store_id, CAST(a.bucket_start AT TIME ZONE s.timezone AS date) AS day,
         SUM(a.transactions) AS transactions, SUM(a.revenue) AS revenue,
         SUM(a.linked_revenue) AS linked_revenue
  FROM sales_aggs a JOIN s ON s.store_id = a.store_id
  WHERE a.bucket_start >= :lo AND a.bucket_start < :hi
  GROUP BY 1, 2
),
sess AS (
  SELECT a.store_id, CAST(a.bucket_start AT TIME ZONE s.timezone AS date) AS day,
         SUM(a.sessions) AS sessions, SUM(a.converted_sessions) AS converted_sessions,
         SUM(a.revenue) AS session_revenue
  FROM session_aggs a JOIN s ON s.store_id = a.store_id
  WHERE a.bucket_start >= :lo AND a.bucket_start < :hi
  GROUP BY 1, 2
)
SELECT store_id, day,
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_in ELSE foot.line_in END, 0)
         AS footfall,
       COALESCE(CASE WHEN foot.ent_rows > 0 THEN foot.ent_pass ELSE foot.line_pass END, 0)
         AS passersby,
       COALESCE(sales.transactions, 0) AS transactions,
       COALESCE(sales.revenue, 0) AS revenue,
       COALESCE(sales.linked_revenue, 0) AS linked_revenue,
       COALESCE(sess.sessions, 0) AS sessions,
       COALESCE(sess.converted_sessions, 0) AS converted_sessions
FROM foot FULL JOIN sales USING (store_id, day) FULL JOIN sess USING (store_id, day)
WHERE day BETWEEN :d_from AND :d_to
ORDER BY store_id, day
"""
)


@dataclass(frozen=True)
class DailyFigures:
    store_id: str
    day: date
    footfall: int
    passersby: int
    transactions: int
    revenue: float
    linked_revenue: float
    sessions: int
    converted_sessions: int

    @property
    def conversion(self) -> float | None:
        """POS transactions per visitor counted at the entrance."""
        return round(self.transactions / self.footfall, 4) if self.footfall else None

    @property
    def service_conversion(self) -> float | None:
        return round(self.converted_sessions / self.sessions, 4) if self.sessions else None

    @property
    def capture_rate(self) -> float | None:
        """Share of people passing the entrance who came in."""
        seen = self.footfall + self.passersby
        return round(self.footfall / seen, 4) if seen else None

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        d["revenue"] = round(self.revenue, 2)
        d["linked_revenue"] = round(self.linked_revenue, 2)
        d.update(
            conversion=self.conversion,
            service_conversion=self.service_conversion,
            capture_rate=self.capture_rate,
        )
        return d


def daily(
    engine: Engine, date_from: date, date_to: date, store_id: str | None = None
) -> list[DailyFigures]:
    """Per store per local day in [date_from, date_to]; days with no data are left out."""
    params = {
        "store_id": store_id,
        "d_from": date_from,
        "d_to": date_to,
        # a generous UTC window around the local days (time zones span -12 h .. +14 h)
        "lo": date_from - timedelta(days=1),
        "hi": date_to + timedelta(days=2),
    }
    with engine.connect() as conn:
        rows = conn.execute(DAILY_SQL, params).mappings().all()
    return [
        DailyFigures(
            store_id=r["store_id"],
            day=r["day"],
            footfall=int(r["footfall"]),
            passersby=int(r["passersby"]),
            transactions=int(r["transactions"]),
            revenue=float(r["revenue"]),
            linked_revenue=float(r["linked_revenue"]),
            sessions=int(r["sessions"]),
            converted_sessions=int(r["converted_sessions"]),
        )
        for r in rows
    ]
