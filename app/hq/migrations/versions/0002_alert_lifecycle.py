"""alerts raised by rules: subject, last seen, count, resolved_at

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

Nullable: stores that do not send them yet (before their alert rules) keep working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("subject", sa.String(length=80), nullable=True))
    op.add_column("alerts", sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("count", sa.Integer(), nullable=True))
    op.add_column("alerts", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("alerts", "resolved_at")
    op.drop_column("alerts", "count")
    op.drop_column("alerts", "last_seen")
    op.drop_column("alerts", "subject")
