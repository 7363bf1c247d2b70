"""the stores' hourly KPIs: staffing adequacy and the bottleneck score

Revision ID: 0006_kpis
Revises: 0005_audit_count_audits

One row per store and local hour (about 9 000 a year per store): the primary key
(store_id, bucket_start) serves the dashboard's per-store period scans.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_kpis"
down_revision = "0005_audit_count_audits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_hours",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("people_peak", sa.Integer(), nullable=False),
        sa.Column("on_duty", sa.Integer(), nullable=True),
        sa.Column("required_staff", sa.Integer(), nullable=True),
        sa.Column("staffing_adequacy", sa.Double(), nullable=True),
        sa.Column("congestion", sa.Double(), nullable=True),
        sa.Column("queue_waits", sa.Integer(), nullable=False),
        sa.Column("queue_wait_sum_s", sa.Double(), nullable=False),
        sa.Column("bottleneck", sa.Double(), nullable=True),
        sa.Column("worst_zone", sa.String(length=80), nullable=False),
        sa.Column("worst_zone_score", sa.Double(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "bucket_start"),
    )


def downgrade() -> None:
    op.drop_table("kpi_hours")
