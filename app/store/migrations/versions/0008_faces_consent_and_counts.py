"""opt-in recognition: staff consent, template kind, face visit counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Staff are enrolled only with recorded consent (when, recorded by whom). A face template
says what it is for (staff or visitor); visitor templates expire. `face_visits` holds
counts only (a camera, a time, an outcome: staff / new / returning), never a template
or a name: they feed the staff counts and the repeat-vs-new reports.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_at", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("consent_by", sa.String(length=120), server_default="", nullable=False)
        )
    with op.batch_alter_table("face_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=12), server_default="visitor", nullable=False)
        )
    op.create_table(
        "face_visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("face_visits", schema=None) as batch_op:
        batch_op.create_index("ix_face_visits_ts", ["ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("face_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_face_visits_ts")
    op.drop_table("face_visits")
    with op.batch_alter_table("face_records", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("consent_by")
        batch_op.drop_column("consent_at")
