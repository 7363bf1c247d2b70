"""Late staff recognition: a track recognised as staff only after it crossed the door
and entered the shop is taken back out of every count: live line counts, occupancy,
analytics, the store's rows and rollups, the tablets' list, and HQ (a rollup bucket
already sent is queued again with the corrected figures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from app.config import parse_config
from app.events import (
    EventBus,
    LineCross,
    StaffRetracted,
    VisitClosed,
    ZoneEnter,
    ZoneExit,
)
from app.line_today import TodayCounts
from app.store.db import Store
from app.sync.lan.live import LiveHub
from app.vision.detections import Detections
from app.vision.pipeline import CameraPipeline
from app.vision.staff_retraction import CountLedger
from tests.vision.test_pipeline import CFG, PassThroughTracker, ScriptedDetector, frames, person

TAG_AT = 14  # the frame the staff member's face is finally matched (after the door)
N = 24


class LateStaffTagger:
    """Stand-in recogniser: `staff` tracks are tagged staff from frame TAG_AT on."""

    def __init__(self, staff: set[int], at: int = TAG_AT) -> None:
        self.staff, self.at, self.calls = staff, at, 0
        self.seen: set[int] = set()

    @property
    def tags(self) -> dict[int, str]:
        return {t: "staff" for t in self.seen & self.staff} if self.calls > self.at else {}

    def observe(
        self, image: np.ndarray, tracked: Detections, t: float, visitor_of: Callable[[int], str]
    ) -> dict[int, str]:
        self.calls += 1
        self.seen |= set(tracked.tracker_id.tolist())
        return self.tags

    def flush(self, visitor_of: Callable[[int], str]) -> None:
        pass


def _script() -> list[Detections]:
    """Track 5 (staff) and 6 (a customer) cross the door (y=200) side by side, walk
    into the shop (y<150) and stay there."""
    out = []
    for k in range(N):
        y = 260 - 15 * min(k, 11)
        rows = [person(5, 100, y), person(6, 300, y)]
        out.append(
            Detections.create(
                np.concatenate([r.xyxy for r in rows]),
                np.concatenate([r.confidence for r in rows]),
                np.concatenate([r.class_id for r in rows]),
                np.concatenate([r.tracker_id for r in rows]),
            )
        )
    return out


def _pipeline(bus: EventBus | None, cfg: dict[str, Any] | None = None) -> CameraPipeline:
    return CameraPipeline(
        "cam", parse_config(cfg or CFG), ScriptedDetector(_script()), bus,
        tracker=PassThroughTracker(), motion=False, stitcher=False, faces=LateStaffTagger({5}),
    )  # fmt: skip


def test_a_late_staff_tag_takes_the_entry_back_everywhere_live() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    p = _pipeline(bus)
    results = [p.process(f) for f in frames(N)]
    before = results[TAG_AT - 1]
    assert before.line_counts == {"door": {"in": 2, "out": 0}}  # counted, not known yet
    assert before.occupancy == {"shop": 2}
    after = results[TAG_AT]
    assert after.line_counts == {"door": {"in": 1, "out": 0}}  # the tile's count
    assert after.lines_taken_back == {"door": {"in": 1, "out": 0}}
    today = TodayCounts(date(2026, 12, 7), {"door": {"in": 10, "out": 0}})
    today.update(date(2026, 12, 7), before.line_counts, before.lines_taken_back)
    tile = today.update(date(2026, 12, 7), after.line_counts, after.lines_taken_back)
    assert tile == {"door": {"in": 11, "out": 0}}  # today's: 10 stored + the customer
    assert after.occupancy == {"shop": 1}
    assert after.extra["face_tags"] == {5: "staff"}
    (r,) = [e for e in seen if isinstance(e, StaffRetracted)]
    assert r.track_id == 5 and r.visitor_id == results[0].visitor_ids[5]
    assert [(c.line, c.direction, c.door) for c in r.lines] == [("door", "in", True)]
    assert [(v.zone, v.exit_ts) for v in r.visits] == [("shop", None)]
    assert p.analytics.line_counts["door"] == {"in": 1, "out": 0}
    assert p.analytics.entries == {"shop": 1}
    p.flush()
    # nothing more of the staff member: no exit, no closed visit, no dwell
    late = seen[seen.index(r) :]
    staff_vid = r.visitor_id
    about_staff = [e for e in late if getattr(e, "visitor_id", "") == staff_vid and e is not r]
    assert about_staff == []
    closed = [e for e in seen if isinstance(e, VisitClosed)]
    assert len(closed) == 1 and closed[0].visitor_id == results[0].visitor_ids[6]
    assert p.analytics.dwell["shop"].visits == 1
    assert len(p.ledger) <= 1  # the staff member's counts are forgotten, taken back once


def test_tagged_from_the_first_frame_nothing_to_take_back() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    p = _pipeline(bus)
    p.faces = LateStaffTagger({5}, at=-1)
    results = [p.process(f) for f in frames(N)]
    assert not [e for e in seen if isinstance(e, StaffRetracted)]
    assert results[-1].line_counts == {"door": {"in": 1, "out": 0}}


def test_a_closed_visit_is_taken_back_with_its_dwell() -> None:
    """The staff member's visit of a zone closed before the tag: exits and dwell too."""
    ledger = CountLedger(horizon_s=60)
    enter = ZoneEnter("cam", 10.0, 1, 0.0, "shop", 5, "v5", "visit-1")
    closed = VisitClosed("cam", 40.0, 9, 30.0, "shop", "v5", "visit-1", 10.0, 25.0, 15.0)
    cross = LineCross("cam", 9.0, 0, 0.0, "aisle-2", "out", 5, "v5", door=False)
    ledger.note([cross, enter], 0.0)
    ledger.note([closed, ZoneExit("cam", 25.0, 5, 15.0, "shop", 5, "v5", "visit-1", 15.0)], 30.0)
    c = ledger.take_back("v5")
    assert [(v.visit_id, v.exit_ts, v.dwell_s) for v in c.visits.values()] == [
        ("visit-1", 25.0, 15.0)
    ]
    assert [(x.line, x.door) for x in c.lines] == [("aisle-2", False)]
    assert not ledger.take_back("v5")  # once
    ledger.note([enter], 0.0)
    ledger.seen({}, 61.0)
    ledger.seen({}, 200.0)  # unseen longer than the horizon: forgotten
    assert len(ledger) == 0


def _rollups(store: Store) -> dict[tuple[str, str], tuple[int, int, int]]:
    with store.read_session() as s:
        rows = s.execute(
            text(
                "SELECT scope, name, sum(entries), sum(exits), sum(dwell_count) FROM rollups "
                "GROUP BY scope, name"
            )  # fmt: skip
        ).all()
    return {(r[0], r[1]): (int(r[2]), int(r[3]), int(r[4])) for r in rows}


@pytest.mark.parametrize("sent_before_tag", [True, False])
def test_the_store_and_hq_lose_the_staff_entry(store: Store, sent_before_tag: bool) -> None:
    bus = EventBus()
    store.attach(bus)
    hub = LiveHub(clock=lambda: 1004.0)  # the frames' time
    hub.attach(bus)
    p = _pipeline(bus)
    fs = frames(N)
    try:
        for f in fs[:TAG_AT]:
            p.process(f)
        store.writer.flush()
        assert _rollups(store)[("line", "door")] == (2, 0, 0)
        assert len(hub.customers("shop")) == 2
        if sent_before_tag:  # the bucket already went to HQ
            store.writer.submit(
                lambda s: s.execute(text("UPDATE sync_outbox SET sent_at = 1, batch_id = 'b1'"))
            ).result(30)
        for f in fs[TAG_AT:]:
            p.process(f)
        p.flush()
        store.writer.flush()
    finally:
        hub.detach()
    with store.read_session() as s:
        q = s.connection().exec_driver_sql
        crossings = q("SELECT visitor_id FROM line_crossings").scalars().all()
        visits = q("SELECT visitor_id FROM zone_visits").scalars().all()
        crops = q("SELECT visitor_id FROM person_crops").scalars().all()
        staff = q("SELECT id FROM visitors WHERE is_staff = 1").scalars().all()
        outbox = q("SELECT key, payload, sent_at FROM sync_outbox WHERE kind = 'rollup' "
                   "ORDER BY id").all()  # fmt: skip
    assert len(staff) == 1
    (staff_vid,) = staff
    assert staff_vid not in crossings and staff_vid not in visits and staff_vid not in crops
    assert len(crossings) == 1 and len(visits) == 1 and len(crops) == 1
    r = _rollups(store)
    assert r[("line", "door")] == (1, 0, 0)
    assert r[("camera", "cam")][0] == 1
    assert r[("zone", "shop")] == (1, 1, 1)  # the customer's visit, closed by the flush
    assert [c.visitor_id for c in hub.customers("shop")] == crossings  # the customer only
    assert hub.crop(staff_vid) is None
    # HQ: the door bucket's last queued row says 1 entry; when the 2 were already sent,
    # a newer row corrects them (HQ keeps the highest seq)
    door = [
        (json.loads(pl), sent) for key, pl, sent in outbox if key.startswith("rollup|line|door")
    ]
    assert door[-1][0]["entries"] == 1 and door[-1][1] is None
    if sent_before_tag:
        assert [d["entries"] for d, sent in door if sent is not None] == [2]
