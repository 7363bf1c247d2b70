"""heatmap history: one aggregated grid per camera and hour

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

`heatmap_hours` keeps, per camera and hour (UTC hour start, epoch seconds), the seconds
of presence of the counted people per grid cell (float16, zlib-compressed): a few KB an
hour, never a picture. It ages with the raw events (retention.raw_events_days).
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


def downgrade() -> None:
    with op.batch_alter_table("heatmap_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_heatmap_hours_shape")
        batch_op.drop_index("ix_heatmap_hours_hour")
    op.drop_table("heatmap_hours")
