"""HQ's PostgreSQL schema (SQLAlchemy 2). Its Alembic migrations in app/hq/migrations
mirror it. One row per store and natural key in every data table: a later row from the
same store (higher `seq`) replaces it, an older or repeated one changes nothing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class HqBase(DeclarativeBase):
    pass


def _store_fk() -> ForeignKey:
    return ForeignKey("stores.store_id", ondelete="CASCADE")


class Store(HqBase):
    __tablename__ = "stores"
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the store key
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_batch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # what still waited at the store when its last batch left (None: not reported)
    backlog_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    backlog_oldest_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class Batch(HqBase):
    """Every batch accepted, once: a repeat of (store_id, batch_key) is a no-op."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64), _store_fk())
    batch_key: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    body_bytes: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (UniqueConstraint("store_id", "batch_key", name="uq_batches_store_key"),)


class _Row:
    """Columns every data table has: which outbox row and batch wrote it last."""

    seq: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RollupRow(_Row, HqBase):
    __tablename__ = "rollups"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    camera: Mapped[str] = mapped_column(String(80))
    entries: Mapped[int] = mapped_column(Integer)
    exits: Mapped[int] = mapped_column(Integer)
    passersby: Mapped[int] = mapped_column(Integer)
    occupancy_peak: Mapped[int] = mapped_column(Integer)
    dwell_count: Mapped[int] = mapped_column(Integer)
    dwell_sum_s: Mapped[float] = mapped_column(Double)
    dwell_max_s: Mapped[float] = mapped_column(Double)


class SessionAggRow(_Row, HqBase):
    __tablename__ = "session_aggs"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    zone: Mapped[str] = mapped_column(String(80), primary_key=True)
    salesperson_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
    ended_sessions: Mapped[int] = mapped_column(Integer)
    service_s_sum: Mapped[float] = mapped_column(Double)
    sessions_with_scans: Mapped[int] = mapped_column(Integer)
    items_scanned: Mapped[int] = mapped_column(Integer)
    converted_sessions: Mapped[int] = mapped_column(Integer)
    linked_lines: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float] = mapped_column(Double)


class SalesAggRow(_Row, HqBase):
    __tablename__ = "sales_aggs"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    salesperson_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float] = mapped_column(Double)
    linked_transactions: Mapped[int] = mapped_column(Integer)
    linked_revenue: Mapped[float] = mapped_column(Double)


class AlertRow(_Row, HqBase):
    __tablename__ = "alerts"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    camera: Mapped[str] = mapped_column(String(80))
    zone: Mapped[str] = mapped_column(String(80))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # opened at
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # rule alerts (revision 0002); NULL from stores before them
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CameraHealthRow(_Row, HqBase):
    __tablename__ = "camera_health"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    camera: Mapped[str] = mapped_column(String(80), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    live_samples: Mapped[int] = mapped_column(Integer)
    last_status: Mapped[str] = mapped_column(String(16))
    fps_avg: Mapped[float] = mapped_column(Double)
    fps_min: Mapped[float] = mapped_column(Double)


class CountAuditRow(_Row, HqBase):
    """A store's counting audit: matched / missed / extra and accuracy of one line."""

    __tablename__ = "count_audits"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    audit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # audited at
    camera: Mapped[str] = mapped_column(String(80))
    line: Mapped[str] = mapped_column(String(80))
    duration_s: Mapped[float] = mapped_column(Double)
    matched: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    extra: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Double)
    __table_args__ = (Index("ix_count_audits_store_ts", "store_id", "ts"),)


class KpiHourRow(_Row, HqBase):
    """A store's hourly KPIs (app/kpis.py, computed at the store): staffing adequacy and
    the bottleneck score, one row per store and local hour (migration 0006_kpis)."""

    __tablename__ = "kpi_hours"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    visitors: Mapped[int] = mapped_column(Integer)
    people_peak: Mapped[int] = mapped_column(Integer)
    on_duty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    required_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staffing_adequacy: Mapped[float | None] = mapped_column(Double, nullable=True)
    congestion: Mapped[float | None] = mapped_column(Double, nullable=True)
    queue_waits: Mapped[int] = mapped_column(Integer)
    queue_wait_sum_s: Mapped[float] = mapped_column(Double)
    bottleneck: Mapped[float | None] = mapped_column(Double, nullable=True)
    worst_zone: Mapped[str] = mapped_column(String(80))
    worst_zone_score: Mapped[float | None] = mapped_column(Double, nullable=True)


class VisitDayRow(_Row, HqBase):
    """Opt-in recognition's counts of one store's local day: new and returning visitors,
    staff left out of the counts (migration 0007_visit_days). Counts only: HQ never gets a
    template, an id or a name."""

    __tablename__ = "visit_days"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_visitors: Mapped[int] = mapped_column(Integer)
    returning_visitors: Mapped[int] = mapped_column(Integer)
    staff_excluded: Mapped[int] = mapped_column(Integer)


# kind on the wire -> table
TABLES: dict[str, Table] = {
    "rollup": HqBase.metadata.tables["rollups"],
    "session_agg": HqBase.metadata.tables["session_aggs"],
    "sales_agg": HqBase.metadata.tables["sales_aggs"],
    "alert": HqBase.metadata.tables["alerts"],
    "camera_health": HqBase.metadata.tables["camera_health"],
    "count_audit": HqBase.metadata.tables["count_audits"],
    "kpi_hour": HqBase.metadata.tables["kpi_hours"],
    "visit_day": HqBase.metadata.tables["visit_days"],
}
STORES: Table = HqBase.metadata.tables["stores"]
# columns holding epoch seconds on the wire and timestamptz here
TIME_COLUMNS = frozenset({"bucket_start", "ts", "acknowledged_at", "last_seen", "resolved_at"})
