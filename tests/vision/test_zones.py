"""Zones: enter/exit with hysteresis, occupancy, visits with the revisit window,
entrances (passers-by versus entrants) and queue waits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from app.config import EntranceConfig, LineConfig, ZoneConfig
from app.events import (
    EntranceEntered,
    Event,
    LineCross,
    PassedBy,
    VisitClosed,
    ZoneEnter,
    ZoneExit,
)
from app.vision.analytics import Analytics, Heatmap
from app.vision.entrance import EntranceWatcher, inward_direction
from app.vision.lines import LineCounter
from app.vision.stamp import Stamp
from app.vision.zones import ZoneRules, ZoneTracker

SQUARE = [(100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0)]
IN, OUT, EDGE_IN, EDGE_OUT = (150.0, 150.0), (300.0, 150.0), (101.0, 150.0), (99.0, 150.0)
FPS = 5.0


def zone(kind: str = "zone", **rules: float) -> ZoneTracker:
    defaults = {"hysteresis_px": 4.0, "min_frames": 2, "revisit_s": 30.0, "lost_s": 3.0}
    defaults.update(rules)
    return ZoneTracker(
        ZoneConfig(name="shelf", polygon=SQUARE, kind=kind),
        ZoneRules(**defaults),  # type: ignore[arg-type]
    )


def feed(
    z: ZoneTracker, tracks: Sequence[dict[int, tuple[float, float]]], t0: int = 0
) -> list[Event]:
    """One dict per analysed frame (track id -> point); frames are 1/FPS apart."""
    events: list[Event] = []
    for i, frame in enumerate(tracks, start=t0):
        stamp = Stamp("cam", i, i / FPS, 1000.0 + i / FPS)
        ids = np.array(list(frame), np.int64)
        pts = np.array(list(frame.values()), float).reshape(-1, 2)
        events += z.update(stamp, ids, pts, {tid: f"v{tid}" for tid in frame})
    return events


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_enter_then_exit_with_dwell() -> None:
    z = zone()
    ev = feed(z, [{1: OUT}, {1: IN}] + [{1: IN}] * 9 + [{1: OUT}])
    assert kinds(ev) == ["ZoneEnter", "ZoneExit"]
    enter, exit_ = ev
    assert isinstance(enter, ZoneEnter) and isinstance(exit_, ZoneExit)
    assert (enter.frame, enter.visitor_id, enter.revisit) == (1, "v1", False)
    assert exit_.visit_id == enter.visit_id
    assert exit_.dwell_s == pytest.approx(2.0)  # frames 1..11 at 5 fps
    assert z.occupancy == 0


def test_occupancy_counts_people_inside() -> None:
    z = zone()
    feed(z, [{1: IN, 2: IN, 3: OUT}])
    assert z.occupancy == 2
    assert sorted(z.inside_track_ids()) == [1, 2]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([OUT, EDGE_IN, EDGE_OUT, EDGE_IN, EDGE_OUT, EDGE_IN, OUT], []),  # flicker on the edge
        ([OUT, EDGE_IN, EDGE_IN, OUT], ["ZoneEnter", "ZoneExit"]),  # 2 frames just inside
        ([OUT, (110.0, 150.0), OUT], ["ZoneEnter", "ZoneExit"]),  # well inside at once
        ([IN, EDGE_OUT, IN, EDGE_OUT, IN], ["ZoneEnter"]),  # inside, flickering out
    ],
)
def test_hysteresis(path, expected) -> None:
    z = zone(min_frames=2)
    assert kinds(feed(z, [{1: p} for p in path])) == expected


def test_revisit_within_window_is_the_same_visit() -> None:
    z = zone(revisit_s=30)
    frames = [{1: IN}] * 10 + [{1: OUT}] * 50 + [{1: IN}] * 10 + [{1: OUT}]  # out for 10 s
    ev = feed(z, frames)
    assert kinds(ev) == ["ZoneEnter", "ZoneExit", "ZoneEnter", "ZoneExit"]
    first, _, again, last = ev
    assert isinstance(again, ZoneEnter) and again.revisit
    assert again.visit_id == first.visit_id  # type: ignore[attr-defined]
    assert isinstance(last, ZoneExit) and last.dwell_s == pytest.approx(4.0)
    # the window passes without a return: the visit closes with the summed dwell
    later = feed(z, [{1: OUT}] * (30 * 5 + 2), t0=len(frames))
    closed = [e for e in later if isinstance(e, VisitClosed)]
    assert len(closed) == 1
    assert closed[0].visit_id == first.visit_id  # type: ignore[attr-defined]
    assert closed[0].dwell_s == pytest.approx(4.0)
    assert closed[0].exit_ts - closed[0].enter_ts == pytest.approx(14.0)


def test_return_after_window_is_a_new_visit() -> None:
    z = zone(revisit_s=5)
    ev = feed(z, [{1: IN}] * 5 + [{1: OUT}] * 40 + [{1: IN}])
    assert kinds(ev) == ["ZoneEnter", "ZoneExit", "VisitClosed", "ZoneEnter"]
    assert ev[3].revisit is False  # type: ignore[attr-defined]
    assert ev[3].visit_id != ev[0].visit_id  # type: ignore[attr-defined]


def test_track_lost_inside_exits_at_its_last_sighting() -> None:
    z = zone(lost_s=3, revisit_s=30)
    ev = feed(z, [{1: IN}] * 6 + [{}] * 20)  # seen frames 0..5, then gone 4 s
    assert kinds(ev) == ["ZoneEnter", "ZoneExit"]
    exit_ = ev[1]
    assert isinstance(exit_, ZoneExit)
    assert exit_.frame == 5 and exit_.dwell_s == pytest.approx(1.0)
    assert z.occupancy == 0


def test_flush_exits_everyone_and_closes_visits() -> None:
    z = zone()
    feed(z, [{1: IN, 2: OUT}, {1: IN, 2: IN}, {1: IN, 2: IN}])
    ev = z.flush(Stamp("cam", 3, 0.6, 1000.6))
    assert sorted(kinds(ev)) == ["VisitClosed", "VisitClosed", "ZoneExit", "ZoneExit"]
    assert z.occupancy == 0


def test_queue_waits() -> None:
    z = zone(kind="queue")
    analytics = Analytics(queues=["shelf"])
    frames = [{1: IN, 2: OUT}] * 5 + [{1: IN, 2: IN}] * 5 + [{1: OUT, 2: IN}]
    for i, frame in enumerate(frames):
        stamp = Stamp("cam", i, i / FPS, i / FPS)
        ids = np.array(list(frame), np.int64)
        pts = np.array(list(frame.values()), float)
        analytics.update(stamp.t, pts, (480, 640), z.update(stamp, ids, pts))
    state = analytics.queue_state(z, t=10 / FPS)
    assert state.length == 1 and state.served == 1
    assert state.mean_wait_s == pytest.approx(2.0)  # track 1: frames 0..10
    assert state.longest_wait_s == pytest.approx(1.0)  # track 2: since frame 5 (pending)


def test_heatmap_accumulates_presence_time() -> None:
    hm = Heatmap(64, 48, 8)
    hm.add(np.array([[4, 4], [4, 5], [63, 47], [100, 100]], float), 0.2)
    assert hm.grid.shape == (6, 8)
    assert hm.grid[0, 0] == pytest.approx(0.4) and hm.grid[5, 7] == pytest.approx(0.2)
    assert hm.grid.sum() == pytest.approx(0.6)
    assert hm.normalized().max() == pytest.approx(1.0)


# --- entrances -------------------------------------------------------------------------

DOOR = LineConfig(name="pavement", start=(0, 300), end=(400, 300))  # zone above: "in"
SHOP = ZoneConfig(name="shop", polygon=[(0, 0), (400, 0), (400, 250), (0, 250)])


def test_inward_direction_follows_the_zone() -> None:
    assert inward_direction(DOOR, SHOP) == "in"
    flipped = LineConfig(name="pavement", start=(400, 300), end=(0, 300))
    assert inward_direction(flipped, SHOP) == "out"


def run_entrance(paths: dict[int, list[tuple[int, int]]], seconds: int) -> list[Event]:
    line = LineCounter(DOOR)
    shop = ZoneTracker(SHOP, ZoneRules(lost_s=60))
    watcher = EntranceWatcher(
        EntranceConfig(name="main", line="pavement", zone="shop", window_s=5), DOOR, SHOP
    )
    out: list[Event] = []
    for i in range(seconds * 5):
        stamp = Stamp("cam", i, i / 5, i / 5)
        now = {tid: p[min(i, len(p) - 1)] for tid, p in paths.items()}
        ids = np.array(list(now), np.int64)
        pts = np.array(list(now.values()), float)
        ev = line.update(stamp, ids, pts) + shop.update(stamp, ids, pts)
        out += watcher.update(stamp, ev)
    return out


def test_entrant_and_passer_by() -> None:
    walk_in = [(100, 350 - 10 * k) for k in range(20)]  # crosses y=300 then reaches y<250
    pass_by = [(200, 350 - 10 * k) for k in range(8)] + [(200 + 20 * k, 275) for k in range(20)]
    ev = run_entrance({1: walk_in, 2: pass_by}, seconds=10)
    entered = [e for e in ev if isinstance(e, EntranceEntered)]
    passed = [e for e in ev if isinstance(e, PassedBy)]
    assert [e.track_id for e in entered] == [1]
    assert [e.track_id for e in passed] == [2]
    assert 6.0 < passed[0].t < 7.0  # the 5 s window after crossing ran out


def test_walking_out_is_neither() -> None:
    walk_out = [(100, 240 + 10 * k) for k in range(20)]
    ev = run_entrance({3: walk_out}, seconds=6)
    assert ev == []


def test_line_cross_feeds_entrance_directly() -> None:
    watcher = EntranceWatcher(
        EntranceConfig(name="e", line="pavement", zone="shop", window_s=5), DOOR, SHOP
    )
    s0, s9 = Stamp("c", 0, 0.0, 0.0), Stamp("c", 9, 9.0, 9.0)
    cross = LineCross("c", 0.0, 0, 0.0, line="pavement", direction="in", track_id=4)
    assert watcher.update(s0, [cross]) == []
    out = watcher.update(s9, [])
    assert [type(e).__name__ for e in out] == ["PassedBy"] and watcher.passed_by == 1


def test_occupancy_drops_a_lost_track_after_the_grace_period() -> None:
    z = zone(lost_s=3)
    feed(z, [{1: IN, 2: IN}] * 3)
    feed(z, [{1: IN}] * 3, t0=3)  # track 2 unseen for 0.6 s: still counted
    assert z.occupancy == 2
    feed(z, [{1: IN}] * 3, t0=6)  # unseen for 1.2 s > 1 s grace: not present any more
    assert z.occupancy == 1
