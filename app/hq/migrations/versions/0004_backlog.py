"""stores: what still waited at the store when its last batch left; failed dashboard
logins kept in the database (the throttle holds across restarts and HQ processes)

Revision ID: 0004
Revises: 0003_dashboard
Create Date: 2026-12-06

The backlog columns are nullable: stores on an older version do not send it; the
dashboard shows "not reported".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stores", sa.Column("backlog_rows", sa.Integer(), nullable=True))
    op.add_column(
        "stores", sa.Column("backlog_oldest_at", sa.DateTime(timezone=True), nullable=True)
    )

    op.create_table(
        "hq_login_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.create_index("ix_hq_login_failures_who", "hq_login_failures", ["username", "client", "at"])
    op.create_index("ix_hq_login_failures_at", "hq_login_failures", ["at"])


def downgrade() -> None:
    op.drop_table("hq_login_failures")
    op.drop_column("stores", "backlog_oldest_at")
    op.drop_column("stores", "backlog_rows")
