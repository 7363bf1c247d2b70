"""counting audits, their recordings, and the cameras' reference views

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

`count_audits` keeps each counting audit's figures (sent to HQ); `audit_recordings`
and `audit_frames` hold the few minutes of a camera recorded for an audit (encrypted
JPEG frames, deleted by retention with the person crops); `view_references` holds one
small grayscale picture of each camera's static background for the drift check.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "count_audits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("line", sa.String(length=80), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("tolerance_s", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("count_audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_count_audits_ts"), ["ts"], unique=False)
    op.create_table(
        "audit_recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_recordings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_recordings_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "audit_frames",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["audit_recordings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_frames", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_frames_recording_id"), ["recording_id"], unique=False
        )
    op.create_table(
        "view_references",
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("camera"),
    )


def downgrade() -> None:
    op.drop_table("view_references")
    with op.batch_alter_table("audit_frames", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_frames_recording_id"))
    op.drop_table("audit_frames")
    with op.batch_alter_table("audit_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_recordings_expires_at"))
    op.drop_table("audit_recordings")
    with op.batch_alter_table("count_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_count_audits_ts"))
    op.drop_table("count_audits")
