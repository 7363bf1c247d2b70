"""HQ dashboard: users, sessions, store profiles, enrolment tokens, promotions, the
per-store per-day table the dashboard reads, and time partitioning of the data tables.

The four 15-minute tables (rollups, session_aggs, sales_aggs, camera_health) become
declaratively range-partitioned by bucket_start, one partition per month plus a DEFAULT
partition (rows outside the created months land there, nothing is refused).
`vitrine_ensure_partitions(from, to)` creates the monthly partitions of a range; HQ
calls it at every start for the months around today (app.hq.partitions).

Revision ID: 0003_dashboard
Revises: 0002
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.hq.daily import BACKFILL_SQL

revision = "0003_dashboard"
down_revision = "0002"
branch_labels = None
depends_on = None

PARTITIONED = ("rollups", "session_aggs", "sales_aggs", "camera_health")
PKS = {
    "rollups": "store_id, scope, name, bucket_start",
    "session_aggs": "store_id, bucket_start, zone, salesperson_code",
    "sales_aggs": "store_id, bucket_start, salesperson_code",
    "camera_health": "store_id, camera, bucket_start",
}

ENSURE_FN = """
CREATE OR REPLACE FUNCTION vitrine_ensure_partitions(d_from date, d_to date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  t text;
  m date;
  part text;
  made integer := 0;
BEGIN
  FOREACH t IN ARRAY ARRAY['rollups', 'session_aggs', 'sales_aggs', 'camera_health'] LOOP
    m := date_trunc('month', d_from)::date;
    WHILE m <= d_to LOOP
      part := format('%s_%s', t, to_char(m, 'YYYYMM'));
      IF to_regclass(part) IS NULL THEN
        EXECUTE format(
          'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
          part, t, m::timestamptz, (m + interval '1 month')::date::timestamptz);
        made := made + 1;
      END IF;
      m := (m + interval '1 month')::date;
    END LOOP;
  END LOOP;
  RETURN made;
END $$;
"""


def _partition(table: str) -> None:
    old = f"{table}_unpartitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {table}_pkey TO {old}_pkey")
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE (bucket_start)"
    )
    _keys(table)
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    # time-range scans across stores (the analyst API, backfills): a BRIN index is tiny
    # and costs the ingest almost nothing, rows arrive roughly in time order
    op.execute(f"CREATE INDEX ix_{table}_bucket_brin ON {table} USING brin (bucket_start)")


def _keys(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({PKS[table]})")
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_store_id_fkey FOREIGN KEY (store_id) "
        "REFERENCES stores (store_id) ON DELETE CASCADE"
    )


def _move_rows(table: str) -> None:
    old = f"{table}_unpartitioned"
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")


def _tables() -> None:
    op.create_table(
        "hq_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region", sa.String(80), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('admin', 'analyst', 'regional')", name="ck_hq_users_role"),
    )
    op.create_table(
        "hq_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("hq_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_table(
        "store_profiles",
        sa.Column(
            "store_id",
            sa.String(64),
            sa.ForeignKey("stores.store_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("region", sa.String(80), server_default="", nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("opening_hours", sa.String(200), server_default="", nullable=False),
    )
    op.create_index("ix_store_profiles_region", "store_profiles", ["region"])
    op.create_table(
        "enrolments",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "store_id",
            sa.String(64),
            sa.ForeignKey("stores.store_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(2000), server_default="", nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("store_ids", sa.ARRAY(sa.String(64)), server_default="{}", nullable=False),
        sa.Column("regions", sa.ARRAY(sa.String(80)), server_default="{}", nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint("kind IN ('promotion', 'event')", name="ck_promotions_kind"),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_promotions_dates"),
    )
    op.create_table(
        "store_days",
        sa.Column(
            "store_id",
            sa.String(64),
            sa.ForeignKey("stores.store_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("footfall", sa.BigInteger(), nullable=False),
        sa.Column("passersby", sa.BigInteger(), nullable=False),
        sa.Column("transactions", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Double(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("converted_sessions", sa.BigInteger(), nullable=False),
        sa.Column("occupancy_peak", sa.Integer(), nullable=False),
    )
    op.create_index("ix_store_days_day", "store_days", ["day", "store_id"])


def upgrade() -> None:
    _tables()
    for t in PARTITIONED:
        _partition(t)
    op.execute(ENSURE_FN)
    op.execute(
        "SELECT vitrine_ensure_partitions((now() - interval '1 month')::date, "
        "(now() + interval '12 months')::date)"
    )
    for t in PARTITIONED:
        _move_rows(t)
    # the first fill of store_days from the data HQ already holds
    conn = op.get_bind()
    conn.execute(BACKFILL_SQL, {"lo": datetime(2000, 1, 1, tzinfo=UTC),
                                "hi": datetime(3000, 1, 1, tzinfo=UTC)})  # fmt: skip


def downgrade() -> None:
    for t in PARTITIONED:
        op.execute(f"CREATE TABLE {t}_flat (LIKE {t} INCLUDING DEFAULTS)")
        op.execute(f"INSERT INTO {t}_flat SELECT * FROM {t}")
        op.execute(f"DROP TABLE {t}")
        op.execute(f"ALTER TABLE {t}_flat RENAME TO {t}")
        _keys(t)
    op.execute("DROP FUNCTION vitrine_ensure_partitions(date, date)")
    for t in (
        "store_days",
        "promotions",
        "enrolments",
        "store_profiles",
        "hq_sessions",
        "hq_users",
    ):
        op.drop_table(t)
