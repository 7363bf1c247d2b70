"""index of finished zone visits by their end (the dwell histogram, queue waits)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

"Finished visits" are counted when they end (app/store/figures.py); the dwell histogram
and the queue pages read visit rows by exit time. The index carries the zone and the
dwell so that those reads never decrypt table pages; it leaves out the open visits
(ix_zone_visits_open has them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zone_visits_exit",
            ["exit_ts", "zone", "dwell_s"],
            unique=False,
            sqlite_where=sa.text("exit_ts IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_zone_visits_exit")
