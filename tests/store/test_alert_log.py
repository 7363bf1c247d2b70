"""Alerts in the store: rule alerts upserted by the single writer, acknowledged through
it, listed; every change queued for HQ without free text."""

from __future__ import annotations

import json

from sqlalchemy import select

from app import wire as payload
from app.alerts import AlertOpened, AlertResolved, AlertUpdated
from app.events import Alert
from app.store import alert_log
from app.store.db import Store
from app.store.models import AlertRow, OutboxRow

T0 = 1_780_000_000.0


def opened(**kw: object) -> AlertOpened:
    base: dict[str, object] = dict(
        id="r-1", kind="over_capacity", subject="Shoes", message="Shoes: 3 people (capacity 2)",
        opened_at=T0, last_seen=T0, camera="cam", zone="Shoes",
    )  # fmt: skip
    base.update(kw)
    return AlertOpened(**base)  # type: ignore[arg-type]


def outbox(store: Store) -> list[dict[str, object]]:
    with store.read_session() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.kind == "alert")).all()
        return [json.loads(r.payload) for r in rows]


def test_a_rule_alert_is_upserted_by_id_and_queued_for_hq(store: Store) -> None:
    w = store.writer
    w.ingest(opened())
    w.ingest(AlertUpdated(**{**opened().__dict__, "last_seen": T0 + 60}))
    w.ingest(AlertResolved(**{**opened().__dict__, "last_seen": T0 + 90, "resolved_at": T0 + 90}))
    w.flush()
    with store.read_session() as s:
        row = s.scalars(select(AlertRow)).one()
        assert (row.subject, row.ts, row.last_seen, row.count, row.resolved_at) == (
            "Shoes", T0, T0 + 90, 1, T0 + 90
        )
        assert row.message == "Shoes: 3 people (capacity 2)"
    sent = outbox(store)
    assert len(sent) == 1  # one pending row per alert: the newest state replaced the others
    data = sent[0]
    payload.validate_data("alert", data)
    assert data == {
        "alert_id": "r-1", "kind": "over_capacity", "subject": "Shoes", "camera": "cam",
        "zone": "Shoes", "ts": T0, "last_seen": T0 + 90, "count": 1, "resolved_at": T0 + 90,
        "acknowledged_at": None,
    }  # fmt: skip
    assert "people" not in json.dumps(sent)  # the message stays in the store


def test_reopened_alert_counts_up_and_is_open_again(store: Store) -> None:
    w = store.writer
    w.ingest(opened())
    w.ingest(AlertResolved(**{**opened().__dict__, "resolved_at": T0 + 70}))
    w.ingest(opened(count=2, last_seen=T0 + 200))
    w.flush()
    with store.read_session() as s:
        (rec,) = alert_log.list_alerts(s)
    assert (rec.id, rec.count, rec.resolved_at, rec.last_seen) == ("r-1", 2, None, T0 + 200)


def test_acknowledgement_is_kept_when_the_rule_changes_the_alert_later(store: Store) -> None:
    w = store.writer
    w.ingest(opened())
    w.flush()
    done = alert_log.acknowledge(store, ["r-1"], "manager", now=T0 + 5).result(10)
    assert done.ids == ["r-1"]
    # the monitor does not know of the acknowledgement: its next state has none
    w.ingest(AlertResolved(**{**opened().__dict__, "resolved_at": T0 + 80}))
    w.flush()
    with store.read_session() as s:
        row = s.get(AlertRow, "r-1")
        assert row is not None
        assert (row.acknowledged_at, row.acknowledged_by, row.resolved_at) == (
            T0 + 5, "manager", T0 + 80
        )
    (data,) = outbox(store)
    assert data["acknowledged_at"] == T0 + 5 and data["resolved_at"] == T0 + 80
    assert "manager" not in json.dumps(data)


def test_acknowledge_all_resolves_notices_and_leaves_rule_alerts_open(store: Store) -> None:
    w = store.writer
    w.ingest(opened())
    w.ingest(opened(id="r-2", subject="Bags", zone="Bags"))
    w.ingest(Alert("lan_unavailable", "port 8443 is in use", ts=T0 + 1, id="n-1"))
    w.flush()
    with store.read_session() as s:
        assert {a.id for a in alert_log.list_alerts(s)} == {"r-1", "r-2", "n-1"}
    done = alert_log.acknowledge(store, None, "desktop", now=T0 + 9).result(10)
    assert sorted(done.ids) == ["n-1", "r-1", "r-2"]
    assert alert_log.acknowledge(store, None, "desktop").result(10).ids == []  # once
    with store.read_session() as s:
        still = alert_log.list_alerts(s)
        every = alert_log.list_alerts(s, include_resolved=True)
    assert sorted(a.id for a in still) == ["r-1", "r-2"]
    assert all(a.acknowledged_by == "desktop" for a in still)
    assert {a.id for a in every} == {"r-1", "r-2", "n-1"}
    for data in outbox(store):
        payload.validate_data("alert", data)
    notice = next(d for d in outbox(store) if d["alert_id"] == "n-1")
    assert notice["resolved_at"] == T0 + 9 and notice["acknowledged_at"] == T0 + 9


def test_acknowledge_unknown_or_resolved_ids_does_nothing(store: Store) -> None:
    store.writer.ingest(AlertResolved(**{**opened().__dict__, "resolved_at": T0 + 1}))
    store.writer.flush()
    assert alert_log.acknowledge(store, ["r-1", "nope"], "x").result(10).ids == []


def test_a_reopened_alert_is_to_be_acknowledged_again(store: Store) -> None:
    w = store.writer
    w.ingest(opened())
    w.flush()
    alert_log.acknowledge(store, ["r-1"], "manager", now=T0 + 5).result(10)
    w.ingest(AlertResolved(**{**opened().__dict__, "resolved_at": T0 + 70}))
    w.ingest(opened(count=2, last_seen=T0 + 200))  # back within the cooldown
    w.flush()
    with store.read_session() as s:
        (rec,) = alert_log.list_alerts(s)
    assert (rec.count, rec.acknowledged_at, rec.acknowledged_by) == (2, None, "")
    (data,) = outbox(store)
    assert data["count"] == 2 and data["acknowledged_at"] is None
