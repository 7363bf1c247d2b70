"""Repeat vs new visitors travel from the store to HQ as counts only: the store counts
recognised tracks per local day (face_visits), queues one `visit_day` row per day
(re-sent when a day's counts change), HQ (real PostgreSQL) stores them and shows them
on the store page and, per store and for the chain, on the KPI page. No template, id,
name or time finer than the day is ever on the wire."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app import wire
from app.hq import auth, users, visit_days
from app.hq.app import create_app
from app.hq.ingest import ingest_batch
from app.store import kpi_queries as kq
from app.store.db import Store, open_store
from app.store.faces import FaceStore
from app.store.models import OutboxRow
from app.sync import aggregates
from tests.sync.hq_dash_data import PASSWORD
from tests.sync.test_hq_dashboard import login

TZ = "Europe/Paris"
D1, D2 = date(2026, 3, 4), date(2026, 3, 5)


def at(d: date, hour: int) -> float:
    return datetime.combine(d, time(hour), ZoneInfo(TZ)).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _template(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def _record(faces: FaceStore, clock: Clock, when: float, outcome: str, seed: int) -> None:
    clock.t = when
    tpl = None if outcome == "staff" else _template(seed)
    faces.record(outcome, tpl, f"visitor-{seed}", "door").result(30)


def _queued(store: Store) -> list[OutboxRow]:
    with store.read_session() as s:
        return list(
            s.scalars(select(OutboxRow).where(OutboxRow.kind == "visit_day").order_by(OutboxRow.id))
        )


def _mark_sent(store: Store) -> None:
    """As the sender does after HQ acknowledged a batch: later changes queue new rows."""
    store.writer.submit(
        lambda s: s.execute(text("UPDATE sync_outbox SET sent_at = 1 WHERE sent_at IS NULL"))
    ).result(30)


def _refresh(store: Store) -> int:
    params = kq.KpiParams(tz=ZoneInfo(TZ))
    lo, hi = at(D1, 0), at(D2, 23)
    return int(store.writer.submit(lambda s: aggregates.refresh(s, lo, hi, params)).result(60))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(tmp_path / "s.db")
    yield st
    st.close()


def _fill(store: Store) -> tuple[FaceStore, Clock]:
    clock = Clock(at(D1, 9))
    faces = FaceStore(store, clock=clock)
    faces.enrol_staff("Alice Martin", _template(99), "manager")
    for i, (hour, outcome) in enumerate([(10, "new"), (11, "new"), (12, "new"),
                                         (13, "returning"), (15, "returning"), (16, "staff")]):  # fmt: skip
        _record(faces, clock, at(D1, hour), outcome, i)
    _record(faces, clock, at(D2, 23) + 1800, "new", 10)  # 23:30 local: still D2
    return faces, clock


def test_the_store_queues_counts_per_local_day_and_resends_a_changed_day(store: Store) -> None:
    faces, clock = _fill(store)
    _refresh(store)
    rows = _queued(store)
    got = {r.key: json.loads(r.payload) for r in rows}
    assert got == {
        "visit_day|2026-03-04": wire.visit_day_data("2026-03-04", 3, 2, 1),
        "visit_day|2026-03-05": wire.visit_day_data("2026-03-05", 1, 0, 0),
    }
    for data in got.values():
        wire.validate_data("visit_day", data)
        assert set(data) == {"day", "new_visitors", "returning_visitors", "staff_excluded"}
    # unchanged counts: nothing queued again
    _mark_sent(store)
    _refresh(store)
    assert len(_queued(store)) == 2
    # a late returning visitor on D1 after D1 was sent: only D1 is sent again, corrected
    _record(faces, clock, at(D1, 18), "returning", 11)
    _refresh(store)
    rows = _queued(store)
    assert len(rows) == 3 and rows[-1].key == "visit_day|2026-03-04"
    assert json.loads(rows[-1].payload)["returning_visitors"] == 3


@pytest.mark.parametrize("day", ["2026-02-31", "2026-13-01", "0000-00-00", "2026-3-4", ""])
def test_a_day_that_is_not_a_date_is_refused(day: str) -> None:
    with pytest.raises(wire.PayloadError, match="day"):
        wire.validate_data("visit_day", wire.visit_day_data(day, 1, 0, 0))
    batch = {"schema_version": 1, "batch_id": str(uuid.uuid4()), "store_id": "S1",
             "timezone": TZ, "sent_at": at(D1, 12),
             "rows": [{"kind": "visit_day", "seq": 1, "data": wire.visit_day_data(day, 1, 0, 0)}]}  # fmt: skip
    with pytest.raises(wire.PayloadError, match="day"):
        wire.validate_envelope(batch)


def test_an_anonymous_store_sends_no_visit_counts(store: Store) -> None:
    _refresh(store)
    assert _queued(store) == []


def test_no_face_data_in_the_payload_even_with_recognition_on(store: Store) -> None:
    """Counts are allowed; no template, embedding, crop, name, id or per-person field."""
    faces, _ = _fill(store)
    _refresh(store)
    with store.read_session() as s:
        outbox = list(s.execute(text("SELECT kind, id, payload FROM sync_outbox ORDER BY id")))
        blobs = [bytes(b) for b in s.execute(text("SELECT embedding FROM face_records")).scalars()]
    assert any(k == "visit_day" for k, _, _ in outbox) and blobs
    body = wire.envelope_bytes(
        "S1", TZ, str(uuid.uuid4()), [wire.wire_row(k, i, p) for k, i, p in outbox], at(D2, 23)
    )
    wire.validate_envelope(json.loads(body))
    low = body.lower()
    for word in (b"alice", b"martin", b"visitor-", b"embedding", b"template", b"crop",
                 b"jpeg", b"image", b"visitor_id", b"track", b"face"):  # fmt: skip
        assert word not in low, word
    for blob in blobs:  # not even a piece of a template, raw or as numbers
        assert blob[:16] not in body
        assert f"{np.frombuffer(blob, np.float32)[0]:.4f}".encode() not in body
    visit_rows = [json.loads(p) for k, _, p in outbox if k == "visit_day"]
    assert all(not (set(r) - {"day", "new_visitors", "returning_visitors", "staff_excluded"})
               for r in visit_rows)  # fmt: skip
    assert all(len(r["day"]) == 10 for r in visit_rows)  # a day, never a time


@pytest.mark.slow
def test_hq_stores_and_shows_repeat_vs_new(store: Store, hq_engine: Engine) -> None:
    faces, clock = _fill(store)
    _refresh(store)
    _mark_sent(store)
    _record(faces, clock, at(D1, 18), "returning", 11)  # a correction of D1, sent later
    _refresh(store)
    with store.read_session() as s:
        outbox = list(s.execute(text("SELECT kind, id, payload FROM sync_outbox ORDER BY id")))
    auth.add_store(hq_engine, "S1", "Store one", TZ)
    auth.add_store(hq_engine, "S2", "Anonymous store", TZ)
    rows = [{"kind": k, "seq": i, "data": json.loads(p)} for k, i, p in outbox]
    # the correction first, the original later (out of order): the higher seq still wins
    for part in (rows[len(rows) // 2 :], rows[: len(rows) // 2]):
        batch_id = str(uuid.uuid4())
        batch = {"schema_version": 1, "batch_id": batch_id, "store_id": "S1",
                 "timezone": TZ, "sent_at": at(D2, 23), "rows": part}  # fmt: skip
        ingest_batch(hq_engine, "S1", wire.validate_envelope(batch), batch_id, 100)
    with hq_engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT day, new_visitors, returning_visitors, staff_excluded FROM visit_days "
                "WHERE store_id = 'S1' ORDER BY day"
            )  # fmt: skip
        ).all()
    assert [tuple(r) for r in got] == [(D1, 3, 3, 1), (D2, 1, 0, 0)]
    v = visit_days.load(hq_engine, ["S1", "S2"], D1, D2)
    assert set(v.by_store) == {"S1"}  # the anonymous store sent nothing
    assert v.chain.new == 4 and v.chain.returning == 3 and v.chain.staff == 1
    assert v.by_day[D1].returning_share == pytest.approx(0.5)

    users.add_user(hq_engine, "admin", PASSWORD, "admin")
    with TestClient(create_app(hq_engine), follow_redirects=False) as client:
        login(client, "admin")
        page = client.get("/hq/stores/S1", params={"from": D1.isoformat(), "to": D2.isoformat()})
        assert page.status_code == 200
        assert "Repeat vs new visitors" in page.text
        assert "<details open><summary>Per day (2)</summary>" in page.text
        day1 = page.text.split("2026-03-04</td>", 1)[1].split("</tr>", 1)[0]
        assert "<td>3</td><td>3</td><td>50.0 %</td>" in day1 and "<td>1</td>" in day1
        kpis = client.get("/hq/kpis", params={"from": D1.isoformat(), "to": D2.isoformat()})
        assert kpis.status_code == 200 and "Repeat vs new visitors" in kpis.text
        chain = kpis.text.split("<b>Chain</b></td>", 1)[1].split("</tr>", 1)[0]
        assert chain.startswith("<td>4</td><td>3</td><td>42.9 %</td>")
        anon = client.get("/hq/stores/S2", params={"from": D1.isoformat(), "to": D2.isoformat()})
        assert "Repeat vs new visitors" not in anon.text
