"""Known data for the HQ dashboard tests: daily figures per store, sent through the
real ingest (one entrance rollup, one camera rollup and one sales aggregate per day at
local noon), and dashboard users."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
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
    ingest_batch(engine, store_id, batch, batch["batch_id"], 100)


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
