"""opt-in recognition's daily counts: new and returning visitors, staff left out

Revision ID: 0007_visit_days
Revises: 0006_kpis

One row per store and local day (counts only: no template, id or name ever reaches
HQ); the primary key (store_id, day) serves the store page's and the KPI page's
period scans.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_visit_days"
down_revision = "0006_kpis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_days",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("new_visitors", sa.Integer(), nullable=False),
        sa.Column("returning_visitors", sa.Integer(), nullable=False),
        sa.Column("staff_excluded", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("visit_days")
