"""rollups.updated_at and the outbox's pending-row index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", sa.Float(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("sync_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_sync_outbox_pending", ["kind", "key", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_outbox_pending")
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
