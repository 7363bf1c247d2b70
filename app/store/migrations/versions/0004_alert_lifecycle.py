"""alerts kept by rules: subject, last seen, count, resolved_at

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

An alert is now raised by a rule for one subject (a camera, a zone, the disk...), stays
open while the trouble lasts and resolves when it is over. Alerts from before were
one-off notices: they are marked resolved (at their acknowledgement, else when raised),
so that none of them reads as a trouble still going on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject", sa.String(length=80), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_seen", sa.Float(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(sa.Column("resolved_at", sa.Float(), nullable=True))
    op.execute(
        "UPDATE alerts SET subject = CASE WHEN zone != '' THEN zone ELSE camera END, "
        "last_seen = ts, resolved_at = COALESCE(acknowledged_at, ts)"
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_open",
            ["kind", "subject"],
            unique=False,
            sqlite_where=sa.text("resolved_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_open")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("count")
        batch_op.drop_column("last_seen")
        batch_op.drop_column("subject")
