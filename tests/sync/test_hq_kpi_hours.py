"""Staffing adequacy and the bottleneck travel from the store to HQ: a store with known
hours computes them (app/kpis.py), queues them as `kpi_hour` aggregates, HQ (real
PostgreSQL) stores them and its KPI report shows the same figures per store."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from app import kpis
from app.hq import auth, kpi_report
from app.hq.dash_queries import all_stores
from app.hq.ingest import ingest_batch
from app.store import kpi_queries as kq
from app.store.db import open_store
from app.store.models import Rollup, ServiceSession
from app.sync import aggregates

TZ = "Europe/Paris"
DAY = date(2026, 3, 4)  # a Wednesday


def _at(hour: int, minute: int = 0) -> float:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()


def _fill(s) -> None:  # noqa: ANN001
    s.add_all([
        # 10:00: 10 people came in, 8 at once on the floor (capacity 10), one salesperson
        Rollup(bucket_start=_at(10), scope="line", name="door", entries=10),
        Rollup(bucket_start=_at(10), scope="zone", name="floor", entries=6, occupancy_peak=8),
        ServiceSession(salesperson_id=1, zone="floor", started_at=_at(10, 5), ended_at=_at(10, 20)),
        # 11:00: 4 came in, 2 at once, nobody serving
        Rollup(bucket_start=_at(11), scope="line", name="door", entries=4),
        Rollup(bucket_start=_at(11), scope="zone", name="floor", entries=3, occupancy_peak=2),
    ])  # fmt: skip


@pytest.mark.slow
def test_staffing_and_bottleneck_reach_hq(tmp_path: Path, hq_engine: Engine) -> None:
    params = kq.KpiParams(tz=ZoneInfo(TZ), capacity=10, visitors_per_salesperson=5)
    store = open_store(tmp_path / "s.db")
    try:
        store.writer.submit(_fill).result(30)
        with store.read_session() as s:
            local = kq.period_kpis(s, params, DAY, DAY)
        store.writer.submit(lambda s: aggregates.refresh(s, _at(0), _at(0) + 86400, params)).result(
            60
        )
        with store.read_session() as s:
            rows = s.execute(
                text(
                    "SELECT id, kind, payload FROM sync_outbox WHERE kind = 'kpi_hour' ORDER BY id"
                )
            ).all()
    finally:
        store.close()
    # the store's own figures, by the definitions
    h10, h11 = local.hours
    assert (h10.on_duty, h10.staffing_adequacy, h10.congestion) == (1, 0.5, 0.8)
    assert (h11.on_duty, h11.staffing_adequacy) == (0, 0.0)
    assert h10.bottleneck == pytest.approx(kpis.bottleneck_score(0.8, None, 0.5))
    # the floor at 11:00 needed a salesperson and had none: its staffing part alone, 100
    worst = local.bottleneck_worst
    assert worst is not None and (worst.zone, worst.hour_start, worst.score) == (
        "floor",
        _at(11),
        100.0,
    )
    assert local.staffing_adequacy == 0.25 and local.understaffed_hours == 2
    assert len(rows) == 2

    import json

    auth.add_store(hq_engine, "S1", "Store one", TZ)
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": "S1",
             "timezone": TZ, "rows": [{"kind": r.kind, "seq": r.id, "data": json.loads(r.payload)}
                                      for r in rows]}  # fmt: skip
    ingest_batch(hq_engine, "S1", batch, str(batch["batch_id"]), 100)
    (row,), chain = kpi_report.report(hq_engine, all_stores(hq_engine), DAY, DAY)
    assert row.staffing_adequacy == pytest.approx(local.staffing_adequacy)
    assert row.understaffed_hours == 2
    assert row.bottleneck == pytest.approx(worst.score)
    assert (row.bottleneck_hour, row.bottleneck_zone) == ("2026-03-04 11:00", "floor")
    assert chain.staffing_adequacy == pytest.approx(0.25) and chain.bottleneck == row.bottleneck
    csv_text = kpi_report.to_csv([row], chain)
    assert "staffing_adequacy" in csv_text.splitlines()[0] and "2026-03-04 11:00" in csv_text
    # another day: nothing
    (empty,), _ = kpi_report.report(
        hq_engine, all_stores(hq_engine), DAY + timedelta(1), DAY + timedelta(1)
    )
    assert empty.staffing_adequacy is None and empty.bottleneck is None
