"""The HQ dashboard's tables (migration 0003_dashboard): users and their sessions,
store profiles (region, capacity, opening hours), one-time enrolment tokens,
promotions and events, and `store_days`, one row per store and local day that the
ingest keeps up to date and every dashboard query reads (the 15-minute tables stay the
source of truth)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.hq.models import HqBase

ROLES = ("admin", "analyst", "regional")


class HqUser(HqBase):
    __tablename__ = "hq_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(80), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'analyst', 'regional')", name="ck_hq_users_role"),
    )


class HqSession(HqBase):
    __tablename__ = "hq_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("hq_users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoginFailure(HqBase):
    """A failed dashboard login (migration 0004): the throttle counts these in the
    database, so it holds across HQ restarts and between several HQ processes."""

    __tablename__ = "hq_login_failures"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        Index("ix_hq_login_failures_who", "username", "client", "at"),
        Index("ix_hq_login_failures_at", "at"),
    )


def _store_fk() -> ForeignKey:
    return ForeignKey("stores.store_id", ondelete="CASCADE")


class StoreProfile(HqBase):
    __tablename__ = "store_profiles"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    region: Mapped[str] = mapped_column(String(80), server_default="")
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    opening_hours: Mapped[str] = mapped_column(String(200), server_default="")
    __table_args__ = (Index("ix_store_profiles_region", "region"),)


class Enrolment(HqBase):
    __tablename__ = "enrolments"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64), _store_fk())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Promotion(HqBase):
    __tablename__ = "promotions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    store_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(80)), server_default="{}")
    created_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        CheckConstraint("kind IN ('promotion', 'event')", name="ck_promotions_kind"),
        CheckConstraint("ends_on >= starts_on", name="ck_promotions_dates"),
    )


class StoreDay(HqBase):
    __tablename__ = "store_days"
    store_id: Mapped[str] = mapped_column(String(64), _store_fk(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    footfall: Mapped[int] = mapped_column(BigInteger)
    passersby: Mapped[int] = mapped_column(BigInteger)
    transactions: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[float] = mapped_column(Double)
    sessions: Mapped[int] = mapped_column(BigInteger)
    converted_sessions: Mapped[int] = mapped_column(BigInteger)
    occupancy_peak: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_store_days_day", "day", "store_id"),)


USERS: Table = HqBase.metadata.tables["hq_users"]
SESSIONS: Table = HqBase.metadata.tables["hq_sessions"]
LOGIN_FAILURES: Table = HqBase.metadata.tables["hq_login_failures"]
PROFILES: Table = HqBase.metadata.tables["store_profiles"]
ENROLMENTS: Table = HqBase.metadata.tables["enrolments"]
PROMOTIONS: Table = HqBase.metadata.tables["promotions"]
STORE_DAYS: Table = HqBase.metadata.tables["store_days"]

# BRIN indexes of the time-partitioned tables (migration 0003_dashboard)
for _name in ("rollups", "session_aggs", "sales_aggs", "camera_health"):
    Index(
        f"ix_{_name}_bucket_brin",
        HqBase.metadata.tables[_name].c.bucket_start,
        postgresql_using="brin",
    )
