"""the period KPIs' per-day cache, its invalidation triggers; visitors tagged staff

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

`kpi_day_cache` keeps each closed day's share of any period's KPIs (app/store/kpi_cache.py)
under a key of the settings it depends on. `kpi_cache_state` holds the horizon: the end
of the last day the cache may hold. Triggers on every table a day's share is read from
note, in the same transaction, the time of any change before the horizon in
`kpi_cache_dirty` (per 15 minutes); the cache leaves out and recomputes the days those
changes may touch. Live ingest (after the horizon) is only compared, never noted.

A partial index lists the visitors tagged staff (`is_staff = 1`): the visit-based
figures leave their visits out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

HORIZON = "(SELECT horizon FROM kpi_cache_state WHERE id = 1)"


def _note(expr: str, source: str = "") -> str:
    """Note the 15-minute bucket of `expr` (for each row of `source`: "FROM ... WHERE
    ..." or "WHERE ..."), unless noted already. A plain INSERT that cannot conflict:
    an OR IGNORE in a trigger would give way to the conflict policy of the statement
    firing it (the ingest's upserts)."""
    return (
        "INSERT INTO kpi_cache_dirty (ts) SELECT DISTINCT b FROM (SELECT "
        f"CAST(({expr}) / 900 AS INTEGER) * 900 AS b {source}) WHERE b IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM kpi_cache_dirty d WHERE d.ts = b);"
    )


def _note_txn(txn: str) -> str:
    """Every line of a POS transaction before the horizon (the per-day counts of
    distinct transactions know the transactions shared between days)."""
    return _note("ts", f"FROM purchases WHERE transaction_id = {txn} AND ts < {HORIZON}")


def _note_visits(visitor: str) -> str:
    return _note(
        "enter_ts - 60",
        f"FROM zone_visits WHERE visitor_id = {visitor} AND enter_ts - 60 < {HORIZON}",
    ) + _note("exit_ts", f"FROM zone_visits WHERE visitor_id = {visitor} AND exit_ts < {HORIZON}")


def _visit(row: str) -> list[str]:
    # a visit counts by its end (waits) and, as a service-zone visit, a minute before its
    # start; the days of the visitor's other visits (journeys join a visitor's visits
    # across days)
    return [
        _note(f"{row}.enter_ts - 60"),
        _note(f"COALESCE({row}.exit_ts, {row}.enter_ts)"),
        _note(
            "enter_ts",
            f"FROM zone_visits WHERE visitor_id = {row}.visitor_id AND enter_ts < {HORIZON}",
        ),
    ]


def _visit_when(row: str) -> str:
    return f"({row}.enter_ts - 60 < {HORIZON} OR {row}.exit_ts < {HORIZON})"


# name -> (event, WHEN condition or "", statements)
TRIGGERS: dict[str, tuple[str, str, list[str]]] = {
    "kpi_note_rollups_ins": ("AFTER INSERT ON rollups", f"NEW.bucket_start < {HORIZON}",
                             [_note("NEW.bucket_start")]),
    "kpi_note_rollups_upd": ("AFTER UPDATE ON rollups",
                             f"MIN(OLD.bucket_start, NEW.bucket_start) < {HORIZON}",
                             [_note("OLD.bucket_start"), _note("NEW.bucket_start")]),
    "kpi_note_rollups_del": ("AFTER DELETE ON rollups", f"OLD.bucket_start < {HORIZON}",
                             [_note("OLD.bucket_start")]),
    # no WHEN: a new visit today of a visitor seen on a cached day changes that day
    "kpi_note_visits_ins": ("AFTER INSERT ON zone_visits", "", _visit("NEW")[2:]),
    "kpi_note_visits_ins_past": ("AFTER INSERT ON zone_visits", _visit_when("NEW"),
                                 _visit("NEW")[:2]),
    "kpi_note_visits_upd": ("AFTER UPDATE ON zone_visits",
                            f"{_visit_when('OLD')} OR {_visit_when('NEW')} "
                            "OR OLD.visitor_id IS NOT NEW.visitor_id",
                            [*_visit("OLD"), *_visit("NEW")]),
    "kpi_note_visits_del": ("AFTER DELETE ON zone_visits", "", _visit("OLD")[2:]),
    "kpi_note_visits_del_past": ("AFTER DELETE ON zone_visits", _visit_when("OLD"),
                                 _visit("OLD")[:2]),
    "kpi_note_purchases_ins": ("AFTER INSERT ON purchases", "", [_note_txn("NEW.transaction_id")]),
    "kpi_note_purchases_upd": ("AFTER UPDATE OF ts, transaction_id, amount ON purchases", "",
                               [_note_txn("OLD.transaction_id"), _note_txn("NEW.transaction_id"),
                                _note("OLD.ts", f"WHERE OLD.ts < {HORIZON}")]),
    "kpi_note_purchases_del": ("AFTER DELETE ON purchases", "",
                               [_note_txn("OLD.transaction_id"),
                                _note("OLD.ts", f"WHERE OLD.ts < {HORIZON}")]),
    "kpi_note_sessions_ins": ("AFTER INSERT ON service_sessions", f"NEW.started_at < {HORIZON}",
                              [_note("NEW.started_at")]),
    "kpi_note_sessions_upd": ("AFTER UPDATE OF started_at, ended_at, salesperson_id, zone "
                              "ON service_sessions",
                              f"MIN(OLD.started_at, NEW.started_at) < {HORIZON}",
                              [_note("OLD.started_at"), _note("NEW.started_at")]),
    "kpi_note_sessions_del": ("AFTER DELETE ON service_sessions", f"OLD.started_at < {HORIZON}",
                              [_note("OLD.started_at")]),
    "kpi_note_alerts_ins": ("AFTER INSERT ON alerts", f"NEW.ts < {HORIZON}", [_note("NEW.ts")]),
    "kpi_note_alerts_upd": ("AFTER UPDATE OF ts, kind, zone, subject ON alerts",
                            f"MIN(OLD.ts, NEW.ts) < {HORIZON}",
                            [_note("OLD.ts"), _note("NEW.ts")]),
    "kpi_note_alerts_del": ("AFTER DELETE ON alerts", f"OLD.ts < {HORIZON}", [_note("OLD.ts")]),
    "kpi_note_staff_ins": ("AFTER INSERT ON visitors", "NEW.is_staff = 1",
                           [_note_visits("NEW.id")]),
    "kpi_note_staff_upd": ("AFTER UPDATE OF is_staff ON visitors",
                           "OLD.is_staff IS NOT NEW.is_staff", [_note_visits("NEW.id")]),
    "kpi_note_staff_del": ("AFTER DELETE ON visitors", "OLD.is_staff = 1",
                           [_note_visits("OLD.id")]),
}  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "kpi_day_cache",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("foot", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("paths", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "day"),
    )
    op.create_table(
        "kpi_cache_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("horizon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kpi_cache_dirty",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kpi_cache_dirty", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_cache_dirty_ts", ["ts"], unique=False)
    op.execute("INSERT INTO kpi_cache_state (id, horizon) VALUES (1, 0)")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visitors_staff", ["id"], unique=False, sqlite_where=sa.text("is_staff = 1")
        )
    for name, (event, when, body) in TRIGGERS.items():
        cond = f" WHEN {when}" if when else ""
        op.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW{cond} BEGIN {' '.join(body)} END")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_staff")
    op.drop_table("kpi_cache_dirty")
    op.drop_table("kpi_cache_state")
    op.drop_table("kpi_day_cache")
