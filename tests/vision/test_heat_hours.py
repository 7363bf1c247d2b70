"""The heatmap split by hour (the history) and fading (the live "recent" view), on a
fake clock."""

from __future__ import annotations

import numpy as np
import pytest

from app.vision.heat_hours import HOUR, RECENT_FULL_S, HeatHours, RecentHeat, hour_start

T0 = 1_800_000_000.0 - 1_800_000_000.0 % HOUR  # an hour start
P = np.array([[85.0, 170.0]])  # cell (21, 10) at 8 px


def test_hours_split_at_the_boundary_and_close_after_the_grace() -> None:
    hh = HeatHours(8, grace_s=600)
    for i in range(10):  # 09:59:55 .. 10:00:04, a second each
        hh.add(T0 + HOUR - 5 + i, P, 1.0, 480, 360)
    out = hh.deltas(now=T0 + HOUR + 5)
    assert [(d.hour_start, float(d.grid[21, 10])) for d in out] == [(T0, 5.0), (T0 + HOUR, 5.0)]
    assert hh.deltas(now=T0 + HOUR + 6) == []  # nothing new since
    hh.take_back({(21, 10): 7.0})  # a sign found stationary: newest hour first, then the older
    out = hh.deltas(now=T0 + HOUR + 601)  # the first hour is over (grace past): handed out last
    assert [(d.hour_start, float(d.grid[21, 10])) for d in out] == [(T0, -2.0), (T0 + HOUR, -5.0)]
    assert hh.hours() == [T0 + HOUR]
    hh.add(T0 + HOUR + 700, P, 2.0, 480, 360)
    assert [float(d.grid[21, 10]) for d in hh.deltas(now=T0 + HOUR + 701, final=True)] == [2.0]
    assert hh.hours() == []
    assert hour_start(T0 + 3599.9) == T0


def test_recent_heat_halves_every_half_life() -> None:
    rh = RecentHeat(8, half_life_s=180)
    assert rh.grid(T0) is None
    rh.add(T0, P, 10.0, 480, 360)
    g = rh.grid(T0 + 180)
    assert g is not None and g[21, 10] == pytest.approx(5.0)
    rh.add(T0 + 360, np.empty((0, 2)), 0.2, 480, 360)  # a frame with nobody: still decays
    rh.add(T0 + 360, np.array([[8.0, 8.0]]), 4.0, 480, 360)
    g = rh.grid(T0 + 360)
    assert g is not None and g[21, 10] == pytest.approx(2.5) and g[1, 1] == pytest.approx(4.0)
    n = rh.normalized(T0 + 360, floor_s=1.0)
    assert (
        n is not None and n.max() == pytest.approx(1.0) and n[1, 1] > n[21, 10]
    )  # recent brighter
    n = rh.normalized(T0 + 360)  # a few seconds are not "full": below RECENT_FULL_S, fainter
    assert n is not None and n[1, 1] == pytest.approx(4.0 / RECENT_FULL_S)
    late = rh.normalized(T0 + 3600, floor_s=1.0)  # an hour later the view has faded out
    assert late is not None and late.max() < 0.01
    rh.take_back({(1, 1): 100.0})
    g = rh.grid(T0 + 360)
    assert g is not None and g[1, 1] == 0.0
