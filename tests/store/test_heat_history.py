"""The heatmap history in the real encrypted store: hours added up, summed over a period
and some hours of the day, expired with the raw events."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from app.config import RetentionConfig
from app.store import retention as r
from app.store.db import Store
from app.store.heat_history import add_hours, heat_cameras, heat_sum, in_hours
from app.store.models import AuditLog
from app.vision.heat_hours import HourDelta

PARIS = ZoneInfo("Europe/Paris")
H0 = int(datetime(2026, 11, 2, 9, tzinfo=PARIS).timestamp())  # a Monday, 09:00 in Paris


def hour(start: int, cells: dict[tuple[int, int], float], w: int = 480, h: int = 360) -> HourDelta:
    grid = np.zeros((-(-h // 8), -(-w // 8)), np.float32)
    for (y, x), s in cells.items():
        grid[y, x] = s
    return HourDelta(start, w, h, 8, grid)


def test_hours_round_trip_add_up_and_sum_over_a_period(store: Store) -> None:
    assert (
        add_hours(
            store, "door", [hour(H0, {(10, 20): 30.0}), hour(H0 + 3600, {(10, 20): 5.0})], PARIS
        )
        == 2
    )
    add_hours(
        store, "door", [hour(H0, {(10, 20): 12.5, (0, 0): 1.0})], PARIS
    )  # the same hour again: added
    add_hours(store, "door", [hour(H0, {(0, 0): -3.0})], PARIS)  # taken back, never below zero
    add_hours(store, "till", [hour(H0, {(1, 1): 99.0})], PARIS)
    with store.read_session() as s:
        one = heat_sum(s, "door", H0, H0 + 3600)
        both = heat_sum(s, "door", H0, H0 + 2 * 3600)
        none = heat_sum(s, "door", H0 + 2 * 3600, H0 + 9 * 3600)
        morning = heat_sum(s, "door", H0 - 86400, H0 + 86400, (9, 10), PARIS)
        assert heat_cameras(s) == ["door", "till"]
    assert one is not None and one.grid.shape == (45, 60)
    assert one.grid[10, 20] == 42.5 and one.grid[0, 0] == 0.0 and one.hours == 1
    assert both is not None and both.grid[10, 20] == 47.5 and both.hours == 2
    assert (both.first, both.last, both.width, both.height, both.cell) == (
        H0,
        H0 + 3600,
        480,
        360,
        8,
    )
    assert none is None
    assert morning is not None and morning.hours == 1 and morning.seconds == 42.5


def test_whole_days_come_from_the_day_rows_and_agree_with_the_hours(store: Store) -> None:
    rng = np.random.default_rng(3)
    hours = []
    for d in range(9):  # nine days, a few hours each, 09:00 Paris to 20:00
        for h in (0, 3, 7, 10):
            grid = (rng.random((45, 60)) < 0.2) * rng.uniform(0, 50, (45, 60))
            hours.append(HourDelta(H0 + d * 86400 + h * 3600, 480, 360, 8, grid.astype(np.float32)))
    add_hours(store, "door", hours[:20], PARIS)
    add_hours(store, "door", hours[20:], PARIS)
    add_hours(store, "door", [hours[5]], PARIS)  # an hour saved twice: its day's grid too
    midnight = H0 - 9 * 3600
    with store.read_session() as s:
        for lo, hi in (
            (midnight, midnight + 7 * 86400),  # a week of whole days
            (H0 + 3 * 3600, midnight + 5 * 86400 + 12 * 3600),  # starts and ends mid-day
            (H0 + 3 * 3600, H0 + 4 * 3600),  # less than a day
        ):
            by_days = heat_sum(s, "door", lo, hi, None, PARIS)
            by_hours = heat_sum(s, "door", lo, hi, (0, 0), PARIS)  # all hours, from the hours
            assert by_days is not None and by_hours is not None
            assert by_days.hours == by_hours.hours
            assert (by_days.first, by_days.last) == (by_hours.first, by_hours.last)
            np.testing.assert_allclose(by_days.grid, by_hours.grid, rtol=2e-3, atol=0.05)
    with store.read_session() as s:
        days = s.connection().exec_driver_sql("SELECT hours FROM heatmap_days").scalars().all()
    assert sorted(days) == [4] * 9  # one row a day, each hour counted once


def test_a_new_picture_size_is_summed_apart(store: Store) -> None:
    add_hours(store, "door", [hour(H0, {(1, 1): 10.0}, 320, 240)], PARIS)
    add_hours(store, "door", [hour(H0 + 3600, {(2, 2): 4.0})], PARIS)
    with store.read_session() as s:
        got = heat_sum(s, "door", H0, H0 + 7200)
    assert got is not None and (got.width, got.hours, got.left_out, got.seconds) == (480, 1, 1, 4.0)
    with store.read_session() as s:  # the whole day: its day row has the newest size only
        day = heat_sum(s, "door", H0 - 9 * 3600, H0 + 15 * 3600, None, PARIS)
    assert day is not None and (day.width, day.hours, day.seconds) == (480, 1, 4.0)


def test_hours_of_day_wrap_past_midnight() -> None:
    assert [h for h in range(24) if in_hours(h, (22, 2))] == [0, 1, 22, 23]
    assert [h for h in range(24) if in_hours(h, (9, 12))] == [9, 10, 11]
    assert all(in_hours(h, None) for h in range(24))


def test_heatmap_hours_expire_with_the_raw_events(store: Store) -> None:
    cfg = RetentionConfig()
    now = H0 + 401 * 86400.0
    add_hours(
        store, "door", [hour(H0, {(1, 1): 1.0}), hour(int(now) // 3600 * 3600, {(1, 1): 2.0})]
    )
    rep = r.run_retention(store, cfg, now=now)
    assert rep.deleted["heatmap_hours"] == 1 and rep.deleted["heatmap_days"] == 1
    with store.read_session() as s:
        left = heat_sum(s, "door", 0, now + 3600)
        assert left is not None and left.seconds == 2.0
        assert s.query(AuditLog).filter(AuditLog.target == "heatmap_hours").count() == 1
