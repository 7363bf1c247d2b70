"""count_audits: each store's counting audits (figures only)

Revision ID: 0005_audit_count_audits
Revises: 0004

A store sends each counting audit it keeps (kind `count_audit` on the wire): when,
which camera and line, matched / missed / extra and accuracy. The stores list shows
the last one per store.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_count_audits"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "count_audits",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("audit_id", sa.String(length=36), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("line", sa.String(length=80), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "audit_id"),
    )
    op.create_index("ix_count_audits_store_ts", "count_audits", ["store_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_count_audits_store_ts", table_name="count_audits")
    op.drop_table("count_audits")
