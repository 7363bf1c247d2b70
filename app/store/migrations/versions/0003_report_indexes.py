"""covering indexes for the sales reports, open zone visits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The sales reports read item_scans by service and purchases by time, barcode and
service; these indexes carry every column those queries need, so SQLCipher never
decrypts table pages for them. Each replaces a single-column index that is its prefix.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_scans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_scans_session_barcode", ["session_id", "barcode"], unique=False
        )
        batch_op.drop_index("ix_item_scans_session_id")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index("ix_purchases_ts_barcode", ["ts", "barcode", "amount"], unique=False)
        batch_op.create_index("ix_purchases_barcode_ts", ["barcode", "ts", "amount"], unique=False)
        batch_op.create_index(
            "ix_purchases_session_barcode", ["session_id", "barcode", "amount"], unique=False
        )
        batch_op.drop_index("ix_purchases_ts")
        batch_op.drop_index("ix_purchases_barcode")
        batch_op.drop_index("ix_purchases_session_id")
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zone_visits_open",
            ["enter_ts"],
            unique=False,
            sqlite_where=sa.text("exit_ts IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("zone_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_zone_visits_open")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index("ix_purchases_session_id", ["session_id"], unique=False)
        batch_op.create_index("ix_purchases_barcode", ["barcode"], unique=False)
        batch_op.create_index("ix_purchases_ts", ["ts"], unique=False)
        batch_op.drop_index("ix_purchases_session_barcode")
        batch_op.drop_index("ix_purchases_barcode_ts")
        batch_op.drop_index("ix_purchases_ts_barcode")
    with op.batch_alter_table("item_scans", schema=None) as batch_op:
        batch_op.create_index("ix_item_scans_session_id", ["session_id"], unique=False)
        batch_op.drop_index("ix_item_scans_session_barcode")
