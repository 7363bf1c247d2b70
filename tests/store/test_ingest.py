"""Vision events -> raw rows, 15-minute rollups and outbox entries, in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from app import wire as payload
from app.events import (
    Alert,
    CameraStatus,
    EntranceEntered,
    LineCross,
    NewVisitor,
    Occupancy,
    PassedBy,
    VisitClosed,
    ZoneEnter,
    ZoneExit,
)
from app.store.db import Store
from app.store.ingest import bucket_of
from app.store.models import (
    AlertRow,
    CameraHealth,
    EntranceEvent,
    OccupancySample,
    OutboxRow,
    PassByEvent,
    PersonCrop,
    Rollup,
    Visitor,
    ZoneVisit,
)

T0 = 1_750_000_000.0 - (1_750_000_000.0 % 900)  # a bucket start


def _rollups(store: Store) -> dict[tuple[str, str, float], Rollup]:
    with store.read_session() as s:
        return {(r.scope, r.name, r.bucket_start): r for r in s.scalars(select(Rollup))}


def _visit(store: Store, vid: str, visit: str, enter: float, exit_: float) -> None:
    w = store.writer
    w.ingest(ZoneEnter("cam", enter, 0, 0.0, "shoes", 1, vid, visit))
    w.ingest(ZoneExit("cam", exit_, 0, 0.0, "shoes", 1, vid, visit, exit_ - enter))
    w.ingest(
        VisitClosed("cam", exit_ + 30, 0, 0.0, "shoes", vid, visit, enter, exit_, exit_ - enter)
    )


def test_rollups_per_scope(store: Store) -> None:
    w = store.writer
    for i in range(3):
        w.ingest(LineCross("cam", T0 + 10 + i, 0, 0.0, "door", "in", i))
    w.ingest(LineCross("cam", T0 + 20, 0, 0.0, "door", "out", 9))
    w.ingest(LineCross("cam", T0 + 900 + 5, 0, 0.0, "door", "in", 10))  # next bucket
    w.ingest(PassedBy("cam", T0 + 30, 0, 0.0, "front", "door", 4))
    w.ingest(EntranceEntered("cam", T0 + 40, 0, 0.0, "front", "lobby", 1, "v1"))
    _visit(store, "v1", "visit-1", T0 + 50, T0 + 110)  # 60 s
    _visit(store, "v2", "visit-2", T0 + 60, T0 + 240)  # 180 s
    w.ingest(ZoneEnter("cam", T0 + 300, 0, 0.0, "shoes", 1, "v3", "visit-3"))
    w.ingest(ZoneExit("cam", T0 + 310, 0, 0.0, "shoes", 1, "v3", "visit-3", 10.0))
    w.ingest(ZoneEnter("cam", T0 + 320, 0, 0.0, "shoes", 1, "v3", "visit-3", revisit=True))
    for n, dt in [(1, 0), (4, 10), (2, 20)]:
        w.ingest(Occupancy("cam", T0 + dt, 0, 0.0, "shoes", n))
    w.flush()
    r = _rollups(store)
    door = r[("line", "door", T0)]
    assert (door.entries, door.exits, door.passersby) == (3, 1, 1)
    assert r[("line", "door", T0 + 900)].entries == 1
    cam = r[("camera", "cam", T0)]
    assert (cam.entries, cam.exits, cam.passersby, cam.occupancy_peak) == (3, 1, 1, 4)
    front = r[("entrance", "front", T0)]
    assert (front.entries, front.passersby) == (1, 1)
    shoes = r[("zone", "shoes", T0)]
    assert (shoes.entries, shoes.exits, shoes.dwell_count) == (3, 2, 2)  # revisit not counted
    assert (shoes.dwell_sum_s, shoes.dwell_max_s, shoes.occupancy_peak) == (240.0, 180.0, 4)
    with store.read_session() as s:
        visits = {v.id: v for v in s.scalars(select(ZoneVisit))}
        assert visits["visit-2"].dwell_s == 180.0 and visits["visit-2"].exit_ts == T0 + 240
        assert visits["visit-3"].exit_ts is None  # came back: open again
        assert s.scalar(select(PassByEvent.entrance)) == "front"
        assert s.scalar(select(EntranceEvent.zone)) == "lobby"


def test_rollups_accumulate_across_batches(store: Store) -> None:
    for i in range(10):
        store.writer.ingest(LineCross("cam", T0 + i, 0, 0.0, "door", "in", i)).result(10)
    assert _rollups(store)[("line", "door", T0)].entries == 10


def test_outbox_one_pending_row_per_bucket(store: Store) -> None:
    w = store.writer
    w.ingest(LineCross("cam", T0 + 1, 0, 0.0, "door", "in", 1)).result(10)
    w.ingest(LineCross("cam", T0 + 2, 0, 0.0, "door", "in", 2)).result(10)
    key = payload.natural_key("rollup", {"scope": "line", "name": "door", "bucket_start": int(T0)})
    with store.read_session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.key == key)))
    assert len(rows) == 1 and json.loads(rows[0].payload)["entries"] == 2
    # the sync worker takes the row into an upload batch: later changes need a new row
    w.submit(lambda s: s.get(OutboxRow, rows[0].id).__setattr__("batch_id", "b-1")).result(10)
    w.ingest(LineCross("cam", T0 + 3, 0, 0.0, "door", "in", 3)).result(10)
    with store.read_session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.key == key).order_by(OutboxRow.id)))
    assert [json.loads(r.payload)["entries"] for r in rows] == [2, 3]


def test_outbox_payloads_follow_the_hq_schema(store: Store) -> None:
    w = store.writer
    w.ingest(LineCross("cam", T0 + 1, 0, 0.0, "door", "in", 1))
    _visit(store, "v1", "visit-1", T0, T0 + 61.25)
    w.ingest(Alert("camera_offline", "cam went away", camera="cam", ts=T0))
    w.flush()
    with store.read_session() as s:
        rows = list(s.scalars(select(OutboxRow)))
    assert {r.kind for r in rows} == {"rollup", "alert"}
    for r in rows:
        data = json.loads(r.payload)
        payload.validate_data(r.kind, data)
        assert r.key == payload.natural_key(r.kind, data)
        assert "went away" not in r.payload and "v1" not in r.payload  # no free text, no ids


def test_other_events_rows(store: Store) -> None:
    w = store.writer
    w.ingest(NewVisitor("cam", T0, 0, 0.0, "shoes", "v7", 3, b"\xff\xd8img"))
    w.ingest(NewVisitor("cam", T0 + 5, 0, 0.0, "shoes", "v8", 4))  # no crop
    w.ingest(LineCross("cam", T0 + 50, 0, 0.0, "door", "in", 3, visitor_id="v7"))
    w.ingest(CameraStatus("cam", "offline", "no frames", 0.0, ts=T0))
    w.ingest(Alert("over_capacity", "too many", zone="shoes", ts=T0, id="a-1"))
    w.ingest(Alert("over_capacity", "too many", zone="shoes", ts=T0, id="a-1"))  # dup ignored
    w.flush()
    with store.read_session() as s:
        crop = s.scalars(select(PersonCrop)).one()
        assert crop.expires_at == T0 + 7 * 86400 and crop.jpeg == b"\xff\xd8img"
        v7 = s.get(Visitor, "v7")
        assert v7 is not None and (v7.first_seen, v7.last_seen) == (T0, T0 + 50)
        assert s.get(Visitor, "v8") is not None
        assert s.scalars(select(CameraHealth.status)).one() == "offline"
        assert s.scalars(select(AlertRow.kind)).one() == "over_capacity"


def test_occupancy_is_sampled(store: Store) -> None:
    w = store.writer
    counts = [1, 1, 2, 3, 3, 3, 1]
    for i, n in enumerate(counts):  # one per second
        w.ingest(Occupancy("cam", T0 + i, 0, 0.0, "till", n))
    w.ingest(Occupancy("cam", T0 + 100, 0, 0.0, "till", 1))  # unchanged but a minute later
    w.flush()
    with store.read_session() as s:
        stored = [
            (o.ts - T0, o.count)
            for o in s.scalars(select(OccupancySample).order_by(OccupancySample.ts))
        ]
    # a change is stored at most every 5 s, an unchanged count at least every 60 s
    assert stored == [(0, 1), (5, 3), (100, 1)]
    assert _rollups(store)[("zone", "till", bucket_of(T0))].occupancy_peak == 3


def test_a_bad_event_fails_alone(store: Store) -> None:
    good = store.writer.ingest(LineCross("cam", T0, 0, 0.0, "door", "in", 1))
    bad = store.writer.ingest("not an event")
    good.result(10)
    try:
        bad.result(10)
    except TypeError as exc:
        assert "does not persist str" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a bad event was acknowledged")


def test_a_line_inside_the_store_is_no_footfall(store: Store) -> None:
    """Crossings of a line that is not a door (`door = false`, an aisle) keep their own
    rows and rollups ("aisle", which HQ accepts) but are not the store's entries or
    exits: neither the "line" scope that footfall adds up nor the camera's."""
    from app.store import reports

    w = store.writer
    w.ingest(LineCross("cam", T0 + 1, 0, 0.0, "door", "in", 1))
    for i in range(4):
        w.ingest(LineCross("cam", T0 + 2 + i, 0, 0.0, "shoes aisle", "in", 10 + i, door=False))
    w.ingest(LineCross("cam", T0 + 9, 0, 0.0, "shoes aisle", "out", 20, door=False))
    w.flush()
    r = _rollups(store)
    aisle = r[("aisle", "shoes aisle", T0)]
    assert (aisle.entries, aisle.exits) == (4, 1)
    assert ("line", "shoes aisle", T0) not in r
    assert (r[("camera", "cam", T0)].entries, r[("camera", "cam", T0)].exits) == (1, 0)
    with store.read_session() as s:
        day = datetime.fromtimestamp(T0, UTC).date()
        assert reports.day_totals(s, day).entries == 1
        crossings = reports.today_line_counts(s, "cam", now=T0 + 10)
        outbox = [json.loads(o.payload) for o in s.scalars(select(OutboxRow))]
    assert crossings["shoes aisle"] == {"in": 4, "out": 1}  # its own counts are kept
    sent = [d for d in outbox if d.get("scope") == "aisle"]
    assert len(sent) == 1
    payload.validate_data("rollup", sent[0])
