"""Reports read rollups only: footfall per local hour, dwell by zone, busiest hours,
today's totals, occupancy now, alerts and acknowledgement."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.events import Alert, EntranceEntered, LineCross, Occupancy, PassedBy, VisitClosed
from app.store import reports
from app.store.db import Store
from app.store.models import AuditLog, LineCrossing, OutboxRow
from app.store.ops import acknowledge_alert

DAY = date(2025, 3, 10)  # a Monday


def _at(tz: str, hh: int, mm: int, d: date = DAY) -> float:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=ZoneInfo(tz)).timestamp()


def _entries(store: Store, tz: str, times: list[tuple[int, int]], d: date = DAY) -> None:
    for hh, mm in times:
        store.writer.ingest(
            EntranceEntered("cam", _at(tz, hh, mm, d), 0, 0.0, "front", "lobby", 1, "")
        )


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def test_footfall_per_local_hour(store: Store, tz: str) -> None:
    _entries(store, tz, [(10, 5), (10, 5), (10, 50), (11, 20), (18, 59)])
    for _ in range(4):
        store.writer.ingest(PassedBy("cam", _at(tz, 10, 10), 0, 0.0, "front", "door", 1))
    store.writer.flush()
    with store.read_session() as s:
        rows = reports.footfall_per_hour(s, DAY, date(2025, 3, 11), tz)
    got = [(r.hour.hour, r.entries, r.passersby) for r in rows]
    assert got == [(10, 3, 4), (11, 1, 0), (18, 1, 0)]
    assert all(
        r.hour.tzinfo is not None and r.hour.utcoffset() == ZoneInfo(tz).utcoffset(r.hour)
        for r in rows
    )


def test_footfall_falls_back_to_line_crossings(store: Store) -> None:
    for mm in (1, 2, 3):
        store.writer.ingest(LineCross("cam", _at("UTC", 9, mm), 0, 0.0, "door", "in", mm))
    store.writer.ingest(LineCross("cam", _at("UTC", 9, 4), 0, 0.0, "door", "out", 9))
    store.writer.flush()
    with store.read_session() as s:
        rows = reports.footfall_per_hour(s, DAY, date(2025, 3, 11))
        totals = reports.day_totals(s, DAY)
    assert [(r.hour.hour, r.entries) for r in rows] == [(9, 3)]
    assert totals.entries == 3 and totals.capture_rate is None


def test_range_is_half_open(store: Store) -> None:
    _entries(store, "UTC", [(0, 0), (23, 59)])
    _entries(store, "UTC", [(0, 0)], d=date(2025, 3, 11))
    store.writer.flush()
    with store.read_session() as s:
        assert sum(r.entries for r in reports.footfall_per_hour(s, DAY, date(2025, 3, 11))) == 2


def test_dwell_by_zone(store: Store) -> None:
    t = _at("UTC", 12, 0)
    for zone, dwells in {"shoes": [30.0, 90.0], "till": [200.0]}.items():
        for i, d in enumerate(dwells):
            store.writer.ingest(
                VisitClosed("cam", t + d, 0, 0.0, zone, f"v{i}", f"{zone}{i}", t, t + d, d)
            )
    store.writer.ingest(Occupancy("cam", t, 0, 0.0, "shoes", 5))
    store.writer.flush()
    with store.read_session() as s:
        z = {r.zone: r for r in reports.dwell_by_zone(s, DAY, date(2025, 3, 11))}
    assert (z["shoes"].visits, z["shoes"].avg_dwell_s, z["shoes"].max_dwell_s) == (2, 60.0, 90.0)
    assert z["shoes"].occupancy_peak == 5
    assert (z["till"].visits, z["till"].avg_dwell_s) == (1, 200.0)


def test_busiest_hours_heatmap(store: Store) -> None:
    tz = "Europe/Paris"
    _entries(store, tz, [(10, 0), (10, 30)], d=date(2025, 3, 10))  # Monday
    _entries(store, tz, [(10, 15)], d=date(2025, 3, 17))  # next Monday
    _entries(store, tz, [(15, 0)], d=date(2025, 3, 12))  # Wednesday
    store.writer.flush()
    with store.read_session() as s:
        hm = reports.busiest_hours(s, date(2025, 3, 10), date(2025, 3, 24), tz)
    assert hm.days == [2] * 7
    assert hm.totals[0][10] == 3 and hm.values[0][10] == 1.5
    assert hm.values[2][15] == 0.5
    assert sum(map(sum, hm.totals)) == 4


def test_today_totals_and_occupancy_now(store: Store) -> None:
    now = _at("UTC", 15, 0)
    _entries(store, "UTC", [(9, 0), (10, 0), (11, 0)])
    store.writer.ingest(PassedBy("cam", _at("UTC", 9, 1), 0, 0.0, "front", "door", 1))
    store.writer.ingest(
        VisitClosed("cam", now - 100, 0, 0.0, "shoes", "v", "x", now - 160, now - 100, 60.0)
    )
    store.writer.ingest(Occupancy("cam", now - 30, 0, 0.0, "shoes", 4))
    store.writer.ingest(Occupancy("cam", now - 3600, 0, 0.0, "till", 2))  # too old
    store.writer.flush()
    with store.read_session() as s:
        t = reports.today_totals(s, "UTC", now=now)
        occ = reports.occupancy_now(s, max_age_s=300, now=now)
    assert (t.entries, t.passersby, t.visits, t.avg_dwell_s) == (3, 1, 1, 60.0)
    assert t.capture_rate == 0.75
    assert occ == {"shoes": 4}


def test_reports_never_read_raw_events(store: Store) -> None:
    _entries(store, "UTC", [(10, 0)])
    store.writer.ingest(LineCross("cam", _at("UTC", 10, 0), 0, 0.0, "door", "in", 1))
    store.writer.flush()
    store.writer.submit(lambda s: s.query(LineCrossing).delete()).result(10)
    store.writer.submit(lambda s: s.execute(select(1))).result(10)
    with store.read_session() as s:
        assert reports.day_totals(s, DAY).entries == 1  # still there: from rollups


def test_alerts_list_and_acknowledge(store: Store) -> None:
    store.writer.ingest(Alert("camera_offline", "cam1 offline", camera="cam1", ts=1.0, id="a1"))
    store.writer.ingest(Alert("over_capacity", "too many", zone="till", ts=2.0, id="a2")).result(10)
    with store.read_session() as s:
        assert [a.id for a in reports.alerts(s)] == ["a2", "a1"]
    assert acknowledge_alert(store, "a1", "manager") is True
    assert acknowledge_alert(store, "a1", "manager") is False
    assert acknowledge_alert(store, "nope", "manager") is False
    with store.read_session() as s:
        assert [a.id for a in reports.alerts(s, unacknowledged_only=True)] == ["a2"]
        assert s.scalars(select(AuditLog.action)).all() == ["acknowledge"]
        pending = s.scalars(select(OutboxRow.payload).where(OutboxRow.key == "alert|a1")).one()
    assert '"acknowledged_at":null' not in pending
