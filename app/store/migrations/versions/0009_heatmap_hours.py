"""heatmap history: one aggregated grid per camera and hour

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

`heatmap_hours` keeps, per camera and hour (UTC hour start, epoch seconds), the seconds
of presence of the counted people per grid cell (float16, zlib-compressed): a few KB an
hour, never a picture; `heatmap_days` their sum per local day, kept as they are added
(a long period reads one grid a day). Both age with the raw events
(retention.raw_events_days).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heatmap_hours",
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("hour_start", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cols", sa.Integer(), nullable=False),
        sa.Column("grid", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("camera", "hour_start"),
    )
    with op.batch_alter_table("heatmap_hours", schema=None) as batch_op:
        batch_op.create_index("ix_heatmap_hours_hour", ["hour_start"], unique=False)
        batch_op.create_index(
            "ix_heatmap_hours_shape",
            ["camera", "hour_start", "width", "height", "cell", "rows", "cols"],
            unique=False,
        )
    op.create_table(
        "heatmap_days",
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("day_start", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cols", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("first_hour", sa.Float(), nullable=False),
        sa.Column("last_hour", sa.Float(), nullable=False),
        sa.Column("grid", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("camera", "day_start"),
    )
    with op.batch_alter_table("heatmap_days", schema=None) as batch_op:
        batch_op.create_index("ix_heatmap_days_day", ["day_start"], unique=False)
        batch_op.create_index(
            "ix_heatmap_days_shape",
            ["camera", "day_start", "width", "height", "cell", "rows", "cols", "hours",
             "first_hour", "last_hour"],
            unique=False,
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("heatmap_days", schema=None) as batch_op:
        batch_op.drop_index("ix_heatmap_days_shape")
        batch_op.drop_index("ix_heatmap_days_day")
    op.drop_table("heatmap_days")
    with op.batch_alter_table("heatmap_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_heatmap_hours_shape")
        batch_op.drop_index("ix_heatmap_hours_hour")
    op.drop_table("heatmap_hours")
