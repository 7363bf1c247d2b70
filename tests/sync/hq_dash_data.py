"""Known data for the HQ dashboard tests: daily figures per store, sent through the
real ingest (one entrance rollup, one camera rollup and one sales aggregate per day at
local noon), and dashboard users."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from app.hq import auth, stores, users
from app.hq.ingest import ingest_batch

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Day:
    entries: int
    passersby: int = 0
    transactions: int = 0
    revenue: float = 0.0
    occupancy: int = 0


def _noon(d: date, tz: str) -> int:
    return int(datetime.combine(d, time(12, 0), ZoneInfo(tz)).timestamp())


def day_rows(d: date, fig: Day, tz: str, seq: int) -> list[dict[str, Any]]:
    t = _noon(d, tz)
    zero = {"dwell_count": 0, "dwell_sum_s": 0.0, "dwell_max_s": 0.0}
    return [
        {"kind": "rollup", "seq": seq, "data": {
            "bucket_start": t, "scope": "entrance", "camera": "door", "name": "main",
            "entries": fig.entries, "exits": fig.entries, "passersby": fig.passersby,
            "occupancy_peak": 0, **zero}},
        {"kind": "rollup", "seq": seq + 1, "data": {
            "bucket_start": t, "scope": "camera", "camera": "door", "name": "door",
            "entries": 0, "exits": 0, "passersby": 0, "occupancy_peak": fig.occupancy, **zero}},
        {"kind": "sales_agg", "seq": seq + 2, "data": {
            "bucket_start": t, "salesperson_code": "", "transactions": fig.transactions,
            "lines": fig.transactions, "revenue": fig.revenue, "linked_transactions": 0,
            "linked_revenue": 0.0}},
    ]  # fmt: skip


def send_days(
    engine: Engine, store_id: str, days: Mapping[date, Day], tz: str = "Europe/Paris"
) -> None:
    """One batch per store through app.hq.ingest (as the receiver would store it)."""
    rows: list[dict[str, Any]] = []
    for i, (d, fig) in enumerate(sorted(days.items())):
        rows += day_rows(d, fig, tz, 1 + 3 * i)
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": store_id,
             "timezone": tz, "rows": rows}  # fmt: skip
    ingest_batch(engine, store_id, batch, str(batch["batch_id"]), 100)


def add_store(
    engine: Engine, store_id: str, region: str, capacity: int | None = None, name: str = ""
) -> str:
    key = auth.add_store(engine, store_id, name or f"Store {store_id}", "Europe/Paris")
    stores.save_profile(engine, store_id, stores.Profile(region, capacity, "Mon-Sat 10-19"))
    return key


def add_users(engine: Engine) -> None:
    users.add_user(engine, "admin", PASSWORD, "admin")
    users.add_user(engine, "ana", PASSWORD, "analyst")
    users.add_user(engine, "nora", PASSWORD, "regional", "North")
    users.add_user(engine, "sam", PASSWORD, "regional", "South")


P_FROM, P_TO = date(2026, 3, 2), date(2026, 3, 8)  # Monday .. Sunday
BASE = {"N1": 100, "N2": 50, "S1": 80}
DURING = {"N1": 1.2, "N2": 1.2, "S1": 1.1}


def figures(store: str, d: date) -> Day:
    """Known days: a weekday baseline (Saturdays double), the promotion week higher."""
    base = BASE[store] * (2 if d.weekday() == 5 else 1)
    during = P_FROM <= d <= P_TO
    last_year = d.year == 2025
    entries = int(round(base * (DURING[store] if during else 0.5 if last_year else 1.0)))
    occ = (46 if d.weekday() >= 5 else 20) if during else 10
    return Day(entries, passersby=3 * entries, transactions=entries // 10,
               revenue=entries * 5.0, occupancy=occ)  # fmt: skip


def seed(engine: Engine, s1_name: str = "South One") -> None:
    add_users(engine)
    add_store(engine, "N1", "North", 50, name="North One")
    add_store(engine, "N2", "North", None, name="North Two")
    add_store(engine, "S1", "South", 40, name=s1_name)
    first = P_FROM - timedelta(weeks=8)
    days = [first + timedelta(days=i) for i in range((P_TO - first).days + 1)]
    ly = [P_FROM - timedelta(days=364) + timedelta(days=i) for i in range(7)]
    for s in BASE:
        send_days(engine, s, {d: figures(s, d) for d in days + ly})


def send_health(
    engine: Engine,
    store_id: str,
    cameras: Mapping[str, str],
    open_alerts: int,
    backlog: tuple[int, float | None] | None = None,
) -> None:
    """Camera health in the current 15-minute bucket and unacknowledged alerts; with
    `backlog` (rows still waiting, seconds since the oldest was made) as a store says."""
    now = datetime.now(UTC).timestamp()
    bucket = int(now // 900 * 900)
    rows: list[dict[str, Any]] = [
        {"kind": "camera_health", "seq": i + 1, "data": {
            "camera": cam, "bucket_start": bucket, "samples": 10,
            "live_samples": 10 if status == "live" else 0, "last_status": status,
            "fps_avg": 12.0, "fps_min": 10.0}}
        for i, (cam, status) in enumerate(cameras.items())
    ]  # fmt: skip
    for j in range(open_alerts):
        rows.append({"kind": "alert", "seq": 100 + j, "data": {
            "alert_id": str(uuid.uuid4()), "kind": "camera_offline", "camera": "door",
            "zone": "", "ts": now - 60, "acknowledged_at": None}})  # fmt: skip
    batch: dict[str, Any] = {"schema_version": 1, "batch_id": str(uuid.uuid4()),
                             "store_id": store_id, "timezone": "Europe/Paris", "rows": rows}  # fmt: skip
    if backlog is not None:
        waiting, age_s = backlog
        batch["backlog"] = {"rows": waiting, "oldest_at": None if age_s is None else now - age_s}
    ingest_batch(engine, store_id, batch, str(batch["batch_id"]), 100)


def send_audit(engine: Engine, store_id: str, accuracy: float, days_ago: float, line: str) -> None:
    """A counting audit of `line`, `days_ago` days ago, as a store sends it."""
    now = datetime.now(UTC).timestamp()
    total = 60
    matched = round(accuracy * total)
    row = {"kind": "count_audit", "seq": 1, "data": {
        "audit_id": str(uuid.uuid4()), "ts": now - days_ago * 86400, "camera": "door",
        "line": line, "duration_s": 600.0, "matched": matched, "missed": total - matched,
        "extra": 0, "accuracy": round(matched / total, 4)}}  # fmt: skip
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": store_id,
             "timezone": "Europe/Paris", "sent_at": now, "rows": [row]}  # fmt: skip
    ingest_batch(engine, store_id, batch, str(batch["batch_id"]), 100)


def send_visit_days(
    engine: Engine,
    store_id: str,
    days: Mapping[date, tuple[int, int, int]],
    tz: str = "Europe/Paris",
) -> None:
    """Opt-in recognition's counts per day (new, returning, staff left out), one batch."""
    rows = [
        {"kind": "visit_day", "seq": 100_000 + i, "data": {
            "day": d.isoformat(), "new_visitors": n, "returning_visitors": r,
            "staff_excluded": st}}
        for i, (d, (n, r, st)) in enumerate(sorted(days.items()))
    ]  # fmt: skip
    batch_id = str(uuid.uuid4())
    batch = {"schema_version": 1, "batch_id": batch_id, "store_id": store_id,
             "timezone": tz, "rows": rows}  # fmt: skip
    ingest_batch(engine, store_id, batch, batch_id, 100)
