"""The HQ dashboard at chain scale: 500 stores x a year of 15-minute rollups.

    python bench/bench_hq_dashboard.py [--stores 500] [--days 365] [--durable]

A temporary PostgreSQL (Debian's binaries; fsync off unless --durable) gets the HQ
schema (monthly partitions), then per store and open quarter-hour (08:00-21:00, 52 a
day) one entrance rollup, one camera rollup (occupancy) and one sales aggregate, plus
camera health for the last hours and open alerts. The rows are generated inside
PostgreSQL (INSERT ... SELECT generate_series, one statement per month and table: no
client round trips, faster than COPY from a client), then store_days is backfilled
from them as migration 0002 does. Then every dashboard query is timed (median of 3,
as an admin seeing all stores; target <= 1 s), and one day of the whole chain's
batches (one batch per store, as the stores send them) is ingested through
app.hq.ingest.ingest_batch, which also refreshes store_days.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import Engine, text  # noqa: E402

from app.hq import daily, db, kpi_report, promotions, queries  # noqa: E402
from app.hq.dash_queries import all_stores, daily_footfall  # noqa: E402
from app.hq.ingest import ingest_batch  # noqa: E402
from app.hq.testing_pg import TempPostgres  # noqa: E402

FIRST_DAY = date(2025, 1, 1)
OPEN_Q = range(8 * 4, 21 * 4)  # quarter-hours 08:00 .. 20:45 (UTC, the stores' zone here)

ROLLUP_SQL = """
INSERT INTO rollups (store_id, scope, name, bucket_start, camera, entries, exits, passersby,
                     occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s, seq, batch_id)
SELECT s.store_id, CAST(:scope AS varchar), 'main', d + q * interval '15 minutes', 'door',
       v, v, CASE WHEN CAST(:scope AS varchar) = 'entrance' THEN v * 3 ELSE 0 END,
       CASE WHEN CAST(:scope AS varchar) = 'camera' THEN v + 5 ELSE 0 END, v, v * 30.0, 120.0, 1, 0
FROM stores s
CROSS JOIN generate_series(CAST(:a AS timestamptz), CAST(:b AS timestamptz), interval '1 day') d
CROSS JOIN generate_series(32, 83) q
CROSS JOIN LATERAL (SELECT (random() * 12 + CASE WHEN extract(isodow FROM d) = 6
                                              THEN 8 ELSE 0 END)::int AS v) r
"""

SALES_SQL = """
INSERT INTO sales_aggs (store_id, bucket_start, salesperson_code, transactions, lines, revenue,
                        linked_transactions, linked_revenue, seq, batch_id)
SELECT s.store_id, d + q * interval '15 minutes', '', t, t * 2, t * 42.5, 0, 0, 1, 0
FROM stores s
CROSS JOIN generate_series(CAST(:a AS timestamptz), CAST(:b AS timestamptz), interval '1 day') d
CROSS JOIN generate_series(32, 83) q
CROSS JOIN LATERAL (SELECT (random() * 2)::int AS t) r
"""


def months(first: date, last: date) -> list[tuple[date, date]]:
    out, m = [], first.replace(day=1)
    while m <= last:
        nxt = (m + timedelta(days=32)).replace(day=1)
        out.append((max(m, first), min(nxt - timedelta(days=1), last)))
        m = nxt
    return out


def generate(engine: Engine, n_stores: int, days: int) -> tuple[int, float]:
    last = FIRST_DAY + timedelta(days=days - 1)
    regions = 10
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SELECT vitrine_ensure_partitions(:a, :b)"),
                     {"a": FIRST_DAY, "b": last + timedelta(days=2)})  # fmt: skip
        conn.execute(text(
            "INSERT INTO stores (store_id, name, key_hash, timezone, last_batch_at) "
            "SELECT 'store-' || lpad(i::text, 4, '0'), 'Store ' || i, md5(i::text), 'UTC', now() "
            "FROM generate_series(1, :n) i"), {"n": n_stores})  # fmt: skip
        conn.execute(text(
            "INSERT INTO store_profiles (store_id, region, capacity, opening_hours) "
            "SELECT store_id, 'Region ' || (abs(hashtext(store_id)) % :r), 60, 'Mon-Sat 8-21' "
            "FROM stores"), {"r": regions})  # fmt: skip
    for a, b in months(FIRST_DAY, last):
        with engine.begin() as conn:
            # bulk load: the stores exist, skip the per-row foreign key triggers
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for scope in ("entrance", "camera"):
                conn.execute(text(ROLLUP_SQL), {"scope": scope, "a": a, "b": b})
            conn.execute(text(SALES_SQL), {"a": a, "b": b})
        print(f"  generated {a:%Y-%m} ({time.perf_counter() - t0:.0f} s)", flush=True)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO camera_health (store_id, camera, bucket_start, samples, live_samples, "
            "last_status, fps_avg, fps_min, seq, batch_id) "
            "SELECT store_id, c, to_timestamp(floor(extract(epoch FROM now()) / 900) * 900), 10, "
            "10, CASE WHEN random() < 0.03 THEN 'offline' ELSE 'live' END, 12, 10, 1, 0 "
            "FROM stores, unnest(ARRAY['door', 'floor', 'till']) c"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO alerts (store_id, alert_id, kind, camera, zone, ts, seq, batch_id) "
            "SELECT store_id, gen_random_uuid()::text, 'camera_offline', 'door', '', now(), 1, 0 "
            "FROM stores WHERE random() < 0.1"))  # fmt: skip
        rows = int(conn.execute(text(
            "SELECT (SELECT count(*) FROM rollups) + (SELECT count(*) FROM sales_aggs)")).scalar_one())  # fmt: skip
    gen_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    with engine.begin() as conn:
        daily.backfill(conn, datetime.combine(FIRST_DAY, datetime.min.time(), UTC),
                       datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC))  # fmt: skip
    print(f"  store_days backfilled in {time.perf_counter() - t1:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return rows, gen_s


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    fn()  # warm (plans, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def dashboard_queries(engine: Engine, last: date) -> list[tuple[str, float]]:
    stores = all_stores(engine)
    region = [s for s in stores if s.region == stores[0].region]
    one = stores[:1]
    ids = [s.store_id for s in stores]
    m28 = last - timedelta(days=27)
    year = last - timedelta(days=364)
    promo = promotions.Promotion(0, "promotion", "bench", "", last - timedelta(days=13),
                                 last - timedelta(days=7), (), (stores[0].region,), "bench")  # fmt: skip
    return [
        (f"stores list with health ({len(stores)} stores)", timed(lambda: all_stores(engine))),
        (f"KPIs, {len(stores)} stores, 28 days (+prev, last year, baseline)",
         timed(lambda: kpi_report.report(engine, stores, m28, last))),
        (f"KPIs, {len(stores)} stores, 365 days", timed(lambda: kpi_report.report(engine, stores, year, last))),
        (f"KPIs, one region ({len(region)} stores), 28 days",
         timed(lambda: kpi_report.report(engine, region, m28, last))),
        ("KPIs, one store, 28 days", timed(lambda: kpi_report.report(engine, one, m28, last))),
        ("chart: chain visitors per day, 365 days", timed(lambda: daily_footfall(engine, ids, year, last))),
        (f"promotion uplift ({len(region)} stores vs {len(stores) - len(region)})",
         timed(lambda: promotions.uplift(engine, promo, stores))),
        (f"CSV export, {len(stores)} stores, 28 days",
         timed(lambda: kpi_report.to_csv(*kpi_report.report(engine, stores, m28, last)))),
        (f"analyst API /api/v1/daily, {len(stores)} stores, 1 day (raw 15-min tables)",
         timed(lambda: queries.daily(engine, last, last))),
    ]  # fmt: skip


def day_batches(n_stores: int, day: date) -> list[tuple[str, dict[str, Any]]]:
    """One batch per store for `day`, as the stores send them (156 rows each)."""
    out = []
    base = datetime.combine(day, datetime.min.time(), UTC).timestamp()
    for i in range(1, n_stores + 1):
        sid = f"store-{i:04d}"
        rows: list[dict[str, Any]] = []
        seq = 1000
        for q in OPEN_Q:
            t = int(base + q * 900)
            for scope in ("entrance", "camera"):
                seq += 1
                rows.append({"kind": "rollup", "seq": seq, "data": {
                    "bucket_start": t, "scope": scope, "camera": "door", "name": "main",
                    "entries": 7, "exits": 7, "passersby": 21 if scope == "entrance" else 0,
                    "occupancy_peak": 12 if scope == "camera" else 0, "dwell_count": 7,
                    "dwell_sum_s": 210.0, "dwell_max_s": 120.0}})  # fmt: skip
            seq += 1
            rows.append({"kind": "sales_agg", "seq": seq, "data": {
                "bucket_start": t, "salesperson_code": "", "transactions": 1, "lines": 2,
                "revenue": 42.5, "linked_transactions": 0, "linked_revenue": 0.0}})  # fmt: skip
        out.append((sid, {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": sid,
                          "timezone": "UTC", "rows": rows}))  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--durable", action="store_true", help="fsync on (slower generation)")
    args = ap.parse_args()
    last = FIRST_DAY + timedelta(days=args.days - 1)
    with TempPostgres(durable=args.durable) as pg:
        engine = db.make_engine(pg.create_database("hq_bench"), pool_size=2)
        db.migrate(engine)
        print(f"generating {args.stores} stores x {args.days} days x 52 quarter-hours ...")
        rows, gen_s = generate(engine, args.stores, args.days)
        with engine.connect() as conn:
            size = conn.execute(
                text("SELECT pg_size_pretty(pg_database_size(current_database()))")
            ).scalar()
        print(f"{rows:,} rows of 15-minute data generated in {gen_s:.0f} s "
              f"({rows / gen_s:,.0f} rows/s); database {size}")  # fmt: skip
        print(f"\ndashboard queries (median of 3, period ending {last}; target <= 1 s):")
        for name, secs in dashboard_queries(engine, last):
            flag = "ok" if secs <= 1.0 else "SLOW"
            print(f"  {secs * 1000:8.1f} ms  {flag:4}  {name}")
        batches = day_batches(args.stores, last + timedelta(days=1))
        n_rows = sum(len(b["rows"]) for _, b in batches)
        t = time.perf_counter()
        for sid, b in batches:
            ingest_batch(engine, sid, b, b["batch_id"], 0)
        ing = time.perf_counter() - t
        print(f"\ningest of one day of the chain: {len(batches)} batches, {n_rows:,} rows in "
              f"{ing:.1f} s ({n_rows / ing:,.0f} rows/s, {ing / len(batches) * 1000:.1f} ms "
              "a batch incl. its store_days refresh; one process, one connection)")  # fmt: skip
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
