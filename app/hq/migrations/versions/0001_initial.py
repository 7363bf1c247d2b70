"""initial HQ schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:27:34.105169
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )
    op.create_table(
        "alerts",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("zone", sa.String(length=80), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "alert_id"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("batch_key", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("body_bytes", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "batch_key", name="uq_batches_store_key"),
    )
    op.create_table(
        "camera_health",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("live_samples", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.String(length=16), nullable=False),
        sa.Column("fps_avg", sa.Double(), nullable=False),
        sa.Column("fps_min", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "camera", "bucket_start"),
    )
    op.create_table(
        "rollups",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("exits", sa.Integer(), nullable=False),
        sa.Column("passersby", sa.Integer(), nullable=False),
        sa.Column("occupancy_peak", sa.Integer(), nullable=False),
        sa.Column("dwell_count", sa.Integer(), nullable=False),
        sa.Column("dwell_sum_s", sa.Double(), nullable=False),
        sa.Column("dwell_max_s", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "scope", "name", "bucket_start"),
    )
    op.create_table(
        "sales_aggs",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("salesperson_code", sa.String(length=40), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Double(), nullable=False),
        sa.Column("linked_transactions", sa.Integer(), nullable=False),
        sa.Column("linked_revenue", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "bucket_start", "salesperson_code"),
    )
    op.create_table(
        "session_aggs",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(length=80), nullable=False),
        sa.Column("salesperson_code", sa.String(length=40), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("ended_sessions", sa.Integer(), nullable=False),
        sa.Column("service_s_sum", sa.Double(), nullable=False),
        sa.Column("sessions_with_scans", sa.Integer(), nullable=False),
        sa.Column("items_scanned", sa.Integer(), nullable=False),
        sa.Column("converted_sessions", sa.Integer(), nullable=False),
        sa.Column("linked_lines", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Double(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.store_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "bucket_start", "zone", "salesperson_code"),
    )


def downgrade() -> None:
    op.drop_table("session_aggs")
    op.drop_table("sales_aggs")
    op.drop_table("rollups")
    op.drop_table("camera_health")
    op.drop_table("batches")
    op.drop_table("alerts")
    op.drop_table("stores")
