"""Service, sales and health aggregates for HQ: the pure arithmetic, and `refresh`
queueing only what changed, on the real store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app import wire as pl
from app.store.db import Store
from app.store.models import AlertRow, Purchase
from app.sync import aggregates as ag
from tests.sync.hq_data import T0, populate

B = int(T0)  # a bucket start


def S(  # noqa: N802 - a tiny fact constructor for tables
    zone: str, code: str, start: float, end: float | None, scans: int, lines: int, rev: float
) -> ag.SessionFact:
    return ag.SessionFact(f"{zone}{start}", zone, code, start, end, scans, lines, rev)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([], []),
        (
            [S("shoes", "E1", T0 + 10, T0 + 310, 2, 1, 49.9)],
            [{"bucket_start": B, "zone": "shoes", "salesperson_code": "E1", "sessions": 1,
              "ended_sessions": 1, "service_s_sum": 300.0, "sessions_with_scans": 1,
              "items_scanned": 2, "converted_sessions": 1, "linked_lines": 1, "revenue": 49.9}],
        ),
        (  # two sessions in one bucket, one still running and one without a sale
            [S("shoes", "E1", T0 + 10, T0 + 70, 0, 0, 0.0),
             S("shoes", "E1", T0 + 899, None, 3, 2, 10.005)],
            [{"bucket_start": B, "zone": "shoes", "salesperson_code": "E1", "sessions": 2,
              "ended_sessions": 1, "service_s_sum": 60.0, "sessions_with_scans": 1,
              "items_scanned": 3, "converted_sessions": 1, "linked_lines": 2, "revenue": 10.01}],
        ),
        (  # split by bucket, zone and salesperson code
            [S("shoes", "E1", T0, T0 + 1, 0, 0, 0.0), S("shoes", "E1", T0 + 900, None, 0, 0, 0.0),
             S("bags", "E1", T0, None, 0, 0, 0.0), S("shoes", "", T0, None, 0, 0, 0.0)],
            [(B, "bags", "E1"), (B, "shoes", ""), (B, "shoes", "E1"), (B + 900, "shoes", "E1")],
        ),
    ],
)  # fmt: skip
def test_session_aggs(facts: list[ag.SessionFact], expected: list) -> None:
    got = ag.session_aggs(facts)
    if expected and isinstance(expected[0], tuple):
        assert [(g["bucket_start"], g["zone"], g["salesperson_code"]) for g in got] == expected
    else:
        assert got == expected
    for g in got:
        pl.validate_data(pl.SESSION_AGG, g)


def test_sales_aggs_count_distinct_transactions_and_linked_revenue() -> None:
    P = ag.PurchaseFact  # noqa: N806
    got = ag.sales_aggs(
        [
            P("T1", T0 + 5, 10.0, "E1", True),
            P("T1", T0 + 5, 5.0, "E1", False),  # second line of the same ticket
            P("T2", T0 + 100, 7.5, "E1", False),
            P("T3", T0 + 100, -2.0, "", False),  # a refund without a salesperson
            P("T4", T0 + 900, 1.0, "E1", True),
        ]
    )
    assert got == [
        {"bucket_start": B, "salesperson_code": "", "transactions": 1, "lines": 1,
         "revenue": -2.0, "linked_transactions": 0, "linked_revenue": 0.0},
        {"bucket_start": B, "salesperson_code": "E1", "transactions": 2, "lines": 3,
         "revenue": 22.5, "linked_transactions": 1, "linked_revenue": 10.0},
        {"bucket_start": B + 900, "salesperson_code": "E1", "transactions": 1, "lines": 1,
         "revenue": 1.0, "linked_transactions": 1, "linked_revenue": 1.0},
    ]  # fmt: skip
    for g in got:
        pl.validate_data(pl.SALES_AGG, g)


def test_health_aggs() -> None:
    H = ag.HealthFact  # noqa: N806
    got = ag.health_aggs(
        [H("a", T0 + 5, "live", 10.0), H("a", T0 + 1, "connecting", 0.0),
         H("a", T0 + 9, "live", 14.0), H("a", T0 + 20, "stalled", 0.0),
         H("b", T0 + 950, "offline", 0.0)]
    )  # fmt: skip
    assert got == [
        {"bucket_start": B, "camera": "a", "samples": 4, "live_samples": 2,
         "last_status": "stalled", "fps_avg": 12.0, "fps_min": 10.0},
        {"bucket_start": B + 900, "camera": "b", "samples": 1, "live_samples": 0,
         "last_status": "offline", "fps_avg": 0.0, "fps_min": 0.0},
    ]  # fmt: skip


def _queued(store: Store) -> dict[str, tuple[str, dict]]:
    """key -> (kind, payload) of the latest outbox row per key."""
    with store.read_session() as s:
        rows = s.execute(text("SELECT kind, key, payload FROM sync_outbox ORDER BY id")).all()
    return {r.key: (r.kind, json.loads(r.payload)) for r in rows}


def _refresh(store: Store) -> int:
    return store.writer.submit(lambda s: ag.refresh(s, T0 - 3600, T0 + 86400)).result(30)


def _diff(before: dict, after: dict) -> dict[str, tuple[str, dict]]:
    return {k: v for k, v in after.items() if before.get(k) != v}


def test_refresh_queues_only_what_changed(local_store: Store) -> None:
    populate(local_store)
    assert _refresh(local_store) > 0
    before = _queued(local_store)
    # (hourly KPI rows come with the store's KPI settings: tests/sync/test_hq_kpi_hours.py;
    # daily recognition counts only from a store that recognises: test_hq_visit_days.py)
    assert {kind for kind, _ in before.values()} == set(pl.KINDS) - {pl.KPI_HOUR, pl.VISIT_DAY}
    assert _refresh(local_store) == 0  # nothing changed: nothing queued
    assert _queued(local_store) == before

    # a walk-in purchase gets linked to a session later (the POS import or relinking)
    def link(s: Session) -> None:
        sid = s.execute(text("SELECT id FROM service_sessions ORDER BY started_at")).scalar()
        s.execute(update(Purchase).where(Purchase.transaction_id == "T-walkin")
                  .values(session_id=sid))  # fmt: skip

    local_store.writer.submit(link).result(30)
    assert _refresh(local_store) == 2  # that session's bucket, and the sale's bucket
    changed = _diff(before, after := _queued(local_store))
    assert sorted(kind for kind, _ in changed.values()) == [pl.SALES_AGG, pl.SESSION_AGG]
    sales = next(d for kind, d in changed.values() if kind == pl.SALES_AGG)
    assert sales["linked_transactions"] == 1 and sales["linked_revenue"] == 7.5
    session = next(d for kind, d in changed.values() if kind == pl.SESSION_AGG)
    assert session["revenue"] == pytest.approx(19.9 + 7.5)

    # an alert acknowledged later is sent again, still without who acknowledged it
    local_store.writer.submit(
        lambda s: s.execute(update(AlertRow).values(acknowledged_at=T0 + 7200,
                                                    acknowledged_by="Manager Name"))
    ).result(30)  # fmt: skip
    assert _refresh(local_store) == 1
    ((key, (kind, data)),) = _diff(after, _queued(local_store)).items()
    assert kind == pl.ALERT and data["acknowledged_at"] == T0 + 7200
    assert "Manager Name" not in json.dumps(data)
    with local_store.read_session() as s:
        alert_id = s.execute(select(AlertRow.id)).scalar()
    assert key == f"alert|{alert_id}"
