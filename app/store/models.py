"""The local store's schema (SQLAlchemy 2). Alembic migrations mirror it.

Times are UTC epoch seconds (float) so that rollup arithmetic is cheap and
unambiguous; ids are text UUIDs where they leave the writer (visitors, sessions,
outbox rows), integers elsewhere.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> float:
    return time.time()


class Base(DeclarativeBase):
    pass


# --- identity, configuration ----------------------------------------------------------


class StoreInfo(Base):
    __tablename__ = "store_info"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    privacy_mode: Mapped[str] = mapped_column(String(16), default="anonymous")
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[float] = mapped_column(Float, default=now, onupdate=now)


class ConfigVersion(Base):
    """History of the cameras/zones/lines configuration: one row per saved version."""

    __tablename__ = "config_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[float] = mapped_column(Float, default=now, index=True)
    author: Mapped[str] = mapped_column(String(80), default="")
    config_json: Mapped[str] = mapped_column(Text)  # secrets removed


class Camera(Base):
    __tablename__ = "cameras"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text, default="")  # without credentials
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    removed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Zone(Base):
    __tablename__ = "zones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    camera: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default="zone")
    polygon_json: Mapped[str] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    removed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    camera: Mapped[str] = mapped_column(String(80))
    start_json: Mapped[str] = mapped_column(Text)
    end_json: Mapped[str] = mapped_column(Text)
    removed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# --- vision events ----------------------------------------------------------------------


class Visitor(Base):
    """An anonymous person: a random UUID, never derived from appearance."""

    __tablename__ = "visitors"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    first_seen: Mapped[float] = mapped_column(Float, index=True)
    last_seen: Mapped[float] = mapped_column(Float)
    camera: Mapped[str] = mapped_column(String(80))
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    # the visitors tagged staff: the visit-based figures leave their visits out (revision 0010)
    __table_args__ = (Index("ix_visitors_staff", "id", sqlite_where=text("is_staff = 1")),)


class ZoneVisit(Base):
    __tablename__ = "zone_visits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    visitor_id: Mapped[str] = mapped_column(String(36), index=True)
    camera: Mapped[str] = mapped_column(String(80))
    zone: Mapped[str] = mapped_column(String(80))
    enter_ts: Mapped[float] = mapped_column(Float)
    exit_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    dwell_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    __table_args__ = (
        # by zone and start, covering the visitor and the end: the queue KPIs (revision
        # 0007 replaced the (zone, enter_ts) index by it)
        Index(
            "ix_zone_visits_zone_enter_cover",
            "zone",
            "enter_ts",
            "visitor_id",
            "exit_ts",
            "dwell_s",
        ),
        # the visits still open (the tablets' list after a restart): a small partial index
        # (revision 0003)
        Index("ix_zone_visits_open", "enter_ts", sqlite_where=text("exit_ts IS NULL")),
        # finished visits by their end: the dwell histogram, queue waits (revision 0007)
        Index(
            "ix_zone_visits_exit",
            "exit_ts",
            "zone",
            "dwell_s",
            sqlite_where=text("exit_ts IS NOT NULL"),
        ),
    )


class LineCrossing(Base):
    __tablename__ = "line_crossings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80))
    line: Mapped[str] = mapped_column(String(80))
    direction: Mapped[str] = mapped_column(String(3))
    ts: Mapped[float] = mapped_column(Float)
    track_id: Mapped[int] = mapped_column(Integer)
    visitor_id: Mapped[str] = mapped_column(String(36), default="")
    __table_args__ = (Index("ix_line_crossings_line_ts", "line", "ts"),)


class PassByEvent(Base):
    __tablename__ = "passby_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80))
    entrance: Mapped[str] = mapped_column(String(80))
    ts: Mapped[float] = mapped_column(Float, index=True)


class EntranceEvent(Base):
    """Someone crossed an entrance's outer line and reached its zone: an entry to the store."""

    __tablename__ = "entrance_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80))
    entrance: Mapped[str] = mapped_column(String(80))
    zone: Mapped[str] = mapped_column(String(80), default="")
    ts: Mapped[float] = mapped_column(Float, index=True)
    track_id: Mapped[int] = mapped_column(Integer, default=0)
    visitor_id: Mapped[str] = mapped_column(String(36), default="")


class OccupancySample(Base):
    __tablename__ = "occupancy_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80))
    zone: Mapped[str] = mapped_column(String(80))
    ts: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_occupancy_zone_ts", "zone", "ts"),)


class PersonCrop(Base):
    """A person crop for the salesperson's list: encrypted JPEG bytes that expire."""

    __tablename__ = "person_crops"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(String(36), index=True)
    zone: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    jpeg: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class FaceRecord(Base):
    """Opt-in recognition only: an embedding (and optionally a face image) per person."""

    __tablename__ = "face_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(String(36), index=True, default="")
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    kind: Mapped[str] = mapped_column(String(12), default="visitor")  # staff | visitor


class FaceVisit(Base):
    """A count, not a person: one recognised track's outcome (staff, new, returning)."""

    __tablename__ = "face_visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
    camera: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(12))


class OptOut(Base):
    """People who asked not to be recognised: their embeddings are never kept again."""

    __tablename__ = "opt_outs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    note: Mapped[str] = mapped_column(String(200), default="")


# --- people and products ------------------------------------------------------------


class Salesperson(Base):
    __tablename__ = "salespersons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    employee_code: Mapped[str] = mapped_column(String(40), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class SalespersonZone(Base):
    __tablename__ = "salesperson_zones"
    salesperson_id: Mapped[int] = mapped_column(
        ForeignKey("salespersons.id", ondelete="CASCADE"), primary_key=True
    )
    zone: Mapped[str] = mapped_column(String(80), primary_key=True)


class Staff(Base):
    """Staff members excluded from customer counts (by face, when recognition is on)."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    salesperson_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    consent_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    consent_by: Mapped[str] = mapped_column(String(120), default="")


class Product(Base):
    __tablename__ = "products"
    barcode: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(120), default="")
    price: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


# --- services and purchases ---------------------------------------------------------


# how a service ended, as the salesperson says it on the tablet: stored key -> label
SERVICE_OUTCOMES = {
    "bought": "Bought",
    "coming_back": "Will come back",
    "just_looking": "Just looking",
    "not_in_stock": "Not in stock",
}


class ServiceSession(Base):
    __tablename__ = "service_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    salesperson_id: Mapped[int] = mapped_column(Integer, index=True)
    zone: Mapped[str] = mapped_column(String(80))
    visitor_id: Mapped[str] = mapped_column(String(36), default="")
    started_at: Mapped[float] = mapped_column(Float, index=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    device_id: Mapped[str] = mapped_column(String(36), default="")
    # how it ended (SERVICE_OUTCOMES key or "") and a free note (revision 0005)
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # salespeople on duty per hour, the period KPIs (revision 0007)
    __table_args__ = (
        Index("ix_service_sessions_duty", "started_at", "ended_at", "salesperson_id", "zone"),
    )


class ItemScan(Base):
    __tablename__ = "item_scans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("service_sessions.id"))
    barcode: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[float] = mapped_column(Float)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    # covering index of the sales reports (revision 0003; replaces the session_id index)
    __table_args__ = (Index("ix_item_scans_session_barcode", "session_id", "barcode"),)


class PosImport(Base):
    __tablename__ = "pos_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))  # csv | webhook
    filename: Mapped[str] = mapped_column(String(260), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_invalid: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Purchase(Base):
    __tablename__ = "purchases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(80))
    line_no: Mapped[int] = mapped_column(Integer, default=0)
    ts: Mapped[float] = mapped_column(Float)
    barcode: Mapped[str] = mapped_column(String(64))
    amount: Mapped[float] = mapped_column(Float)
    salesperson_code: Mapped[str] = mapped_column(String(40), default="")
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    __table_args__ = (
        UniqueConstraint("transaction_id", "line_no", name="uq_purchase_line"),
        # covering indexes of the sales reports and linking (revision 0003; they replace
        # the single-column ts, barcode and session_id indexes)
        Index("ix_purchases_ts_barcode", "ts", "barcode", "amount"),
        Index("ix_purchases_barcode_ts", "barcode", "ts", "amount"),
        Index("ix_purchases_session_barcode", "session_id", "barcode", "amount"),
        # distinct transactions and revenue of a period (revision 0007)
        Index("ix_purchases_ts_transaction", "ts", "transaction_id", "amount"),
    )


# --- operations ------------------------------------------------------------------------


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    camera: Mapped[str] = mapped_column(String(80), default="")
    zone: Mapped[str] = mapped_column(String(80), default="")
    ts: Mapped[float] = mapped_column(Float, index=True)  # when it opened
    acknowledged_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(80), default="")
    # raised by a rule for one subject, open until resolved (revision 0004)
    subject: Mapped[str] = mapped_column(String(80), default="", server_default="")
    last_seen: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    count: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    __table_args__ = (
        Index("ix_alerts_open", "kind", "subject", sqlite_where=text("resolved_at IS NULL")),
    )


class CameraHealth(Base):
    __tablename__ = "camera_health"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80), index=True)
    ts: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    source_fps: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")


class Rollup(Base):
    """15-minute aggregates per camera, zone or line: what reports and HQ read."""

    __tablename__ = "rollups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket_start: Mapped[float] = mapped_column(Float)  # epoch seconds, multiple of 900
    scope: Mapped[str] = mapped_column(String(8))  # camera | zone | line | aisle | entrance
    camera: Mapped[str] = mapped_column(String(80), default="")
    name: Mapped[str] = mapped_column(String(80))  # zone / line / camera name
    entries: Mapped[int] = mapped_column(Integer, default=0)
    exits: Mapped[int] = mapped_column(Integer, default=0)
    passersby: Mapped[int] = mapped_column(Integer, default=0)
    occupancy_peak: Mapped[int] = mapped_column(Integer, default=0)
    dwell_count: Mapped[int] = mapped_column(Integer, default=0)
    dwell_sum_s: Mapped[float] = mapped_column(Float, default=0.0)
    dwell_max_s: Mapped[float] = mapped_column(Float, default=0.0)
    # when the bucket last changed (revision 0002)
    updated_at: Mapped[float] = mapped_column(Float, default=now, server_default=text("0"))
    __table_args__ = (
        UniqueConstraint("scope", "name", "bucket_start", name="uq_rollup_bucket"),
        Index("ix_rollups_bucket", "bucket_start"),
        # the period KPIs' scans of one scope over a range (revision 0007)
        Index(
            "ix_rollups_scope_bucket",
            "scope",
            "bucket_start",
            "name",
            "entries",
            "passersby",
            "occupancy_peak",
        ),
    )


class OutboxRow(Base):
    """Rows waiting to go to HQ, written in the same transaction that produced them."""

    __tablename__ = "sync_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))  # rollup | session_agg | alert | health
    key: Mapped[str] = mapped_column(String(200))  # natural key: HQ upserts by it
    payload: Mapped[str] = mapped_column(Text)  # JSON, no personal data
    created_at: Mapped[float] = mapped_column(Float, default=now)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    batch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # the writer looks up the pending row of a (kind, key) on every change (revision 0002)
    __table_args__ = (Index("ix_sync_outbox_pending", "kind", "key", "sent_at"),)


class PairedDevice(Base):
    __tablename__ = "paired_devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    salesperson_id: Mapped[int] = mapped_column(Integer, index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    last_seen: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float, default=now, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # who: user, device, "retention"
    action: Mapped[str] = mapped_column(String(40))  # delete | export | view | ...
    target: Mapped[str] = mapped_column(String(200))  # what
    detail: Mapped[str] = mapped_column(Text, default="")


# --- counting audits (revision 0006) ---------------------------------------------------


class CountAudit(Base):
    """A counting audit's result: a person's marks of one line against Vitrine's counts.
    Figures only (sent to HQ); the misses' and extras' times are in `detail` (JSON)."""

    __tablename__ = "count_audits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ts: Mapped[float] = mapped_column(Float, index=True)  # when the audit was done
    camera: Mapped[str] = mapped_column(String(80))
    line: Mapped[str] = mapped_column(String(80))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)  # footage audited
    matched: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    extra: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    tolerance_s: Mapped[float] = mapped_column(Float, default=1.0)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    recording_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditRecording(Base):
    """A few minutes of one camera recorded for an audit: encrypted JPEG frames (in
    `audit_frames`) that expire like person crops."""

    __tablename__ = "audit_recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    fps: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=0)


class AuditFrame(Base):
    __tablename__ = "audit_frames"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("audit_recordings.id", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer)
    t: Mapped[float] = mapped_column(Float)  # seconds into the recording
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


class ViewReference(Base):
    """A camera's reference view for the drift check: a small grayscale picture of the
    static background (PNG), taken at setup or at the last audit."""

    __tablename__ = "view_references"
    camera: Mapped[str] = mapped_column(String(80), primary_key=True)
    ts: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16), default="audit")  # audit | setup
    png: Mapped[bytes] = mapped_column(LargeBinary)


class HeatmapHour(Base):
    """One camera's heatmap for one hour (revision 0009): the seconds of presence of the
    counted people per grid cell (float16, zlib), never a picture or anybody's path.
    Staff and stationary objects are left out like in the live heatmap."""

    __tablename__ = "heatmap_hours"
    camera: Mapped[str] = mapped_column(String(80), primary_key=True)
    hour_start: Mapped[float] = mapped_column(Float, primary_key=True)  # epoch s, multiple of 3600
    width: Mapped[int] = mapped_column(Integer)  # the camera picture the grid covers, pixels
    height: Mapped[int] = mapped_column(Integer)
    cell: Mapped[int] = mapped_column(Integer)  # cell size, pixels
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
    grid: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[float] = mapped_column(Float, default=now, onupdate=now)
    __table_args__ = (
        Index("ix_heatmap_hours_hour", "hour_start"),  # retention
        # a period's hours and sizes without reading the grids (app/store/heat_history.py)
        Index("ix_heatmap_hours_shape", "camera", "hour_start", "width", "height", "cell",
              "rows", "cols"),
    )  # fmt: skip


class HeatmapDay(Base):
    """The sum of a camera's `heatmap_hours` over one local day (revision 0009), kept as
    the hours are added: a long period reads one grid a day (float32, zlib)."""

    __tablename__ = "heatmap_days"
    camera: Mapped[str] = mapped_column(String(80), primary_key=True)
    day_start: Mapped[float] = mapped_column(Float, primary_key=True)  # local midnight, epoch s
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    cell: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)  # hours with presence that day
    first_hour: Mapped[float] = mapped_column(Float)
    last_hour: Mapped[float] = mapped_column(Float)
    grid: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[float] = mapped_column(Float, default=now, onupdate=now)
    __table_args__ = (
        Index("ix_heatmap_days_day", "day_start"),  # retention
        Index("ix_heatmap_days_shape", "camera", "day_start", "width", "height", "cell", "rows",
              "cols", "hours", "first_hour", "last_hour"),
    )  # fmt: skip


# --- the period KPIs' per-day cache (revision 0010; app/store/kpi_cache.py) ----------------


class KpiDayCache(Base):
    """A closed day's share of any period's KPIs (JSON), under a key of the settings it
    depends on."""

    __tablename__ = "kpi_day_cache"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # local date, ISO
    uid: Mapped[str] = mapped_column(String(36))  # of this computation (decoded parts memo)
    foot: Mapped[str] = mapped_column(Text)  # its footfall (a period's history reads only it)
    data: Mapped[str] = mapped_column(Text)  # the other KPI parts
    paths: Mapped[str] = mapped_column(Text)  # its journeys
    computed_at: Mapped[float] = mapped_column(Float)


class KpiCacheState(Base):
    """One row: the horizon, the end of the last day the cache may hold (epoch s)."""

    __tablename__ = "kpi_cache_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    horizon: Mapped[float] = mapped_column(Float)


class KpiCacheDirty(Base):
    """A change before the horizon (noted per 15 minutes by the revision's triggers)."""

    __tablename__ = "kpi_cache_dirty"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
