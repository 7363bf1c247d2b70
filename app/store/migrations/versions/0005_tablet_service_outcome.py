"""a service's outcome and note

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

The salesperson may say how a service ended (bought, will come back, just looking, not
in stock) and add a short note; both are shown in the desktop's Services report.
Services from before have neither (empty).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("note", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("outcome")
