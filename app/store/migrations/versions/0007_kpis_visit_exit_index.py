"""covering indexes of the period KPIs: finished visits by their end, rollups by scope
and time, purchases by time with their transaction

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

"Finished visits" are counted when they end (app/store/figures.py); the dwell histogram
and the queue pages read visit rows by exit time. The index carries the zone and the
dwell so that those reads never decrypt table pages; it leaves out the open visits
(ix_zone_visits_open has them). The (zone, enter_ts) index of visits becomes a covering
one (with visitor, end and dwell): the queue waits and abandonment read it alone. The period KPIs (app/store/kpi_queries.py) read the
rollups of one scope over a range (footfall, zone hours, people in the store) and count
distinct POS transactions over a range: both covered, so SQLCipher decrypts index pages
only (`python bench/bench_kpis.py`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zone_visits_zone_enter_cover",
            ["zone", "enter_ts", "visitor_id", "exit_ts", "dwell_s"],
            unique=False,
        )
        batch_op.drop_index("ix_zone_visits_zone_enter")
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollups_scope_bucket",
            ["scope", "bucket_start", "name", "entries", "passersby", "occupancy_peak"],
            unique=False,
        )
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_sessions_duty",
            ["started_at", "ended_at", "salesperson_id", "zone"],
            unique=False,
        )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchases_ts_transaction", ["ts", "transaction_id", "amount"], unique=False
        )
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zone_visits_exit",
            ["exit_ts", "zone", "dwell_s"],
            unique=False,
            sqlite_where=sa.text("exit_ts IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index("ix_zone_visits_zone_enter", ["zone", "enter_ts"], unique=False)
        batch_op.drop_index("ix_zone_visits_zone_enter_cover")
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_service_sessions_duty")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_purchases_ts_transaction")
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_rollups_scope_bucket")
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_zone_visits_exit")
