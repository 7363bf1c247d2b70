"""Forgetting on time: retention rules per data class, applied daily and at start-up
(the same slot refreshes the query planner's statistics: `Store.optimize()`).

The rules are pure functions of (row times, now, RetentionConfig): person crops 7 days,
face images 30 days, raw events (and the hourly heatmaps) 400 days, rollups kept; the frames recorded for a
counting audit go with the person crops. Deletions run in the writer's
transaction together with their audit rows; then the freed pages are overwritten
(`secure_delete=ON` on every connection), checkpointed out of the WAL and given back to
the file system (`incremental_vacuum`), so expired image bytes are really gone.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.config import RetentionConfig
from app.store.access import StoreAccess, reclaim_space
from app.store.audit import audit
from app.store.models import Setting

log = logging.getLogger(__name__)

DAY = 86400.0
LAST_RUN_KEY = "retention.last_run"
# raw event tables and the time column that ages them
RAW_EVENT_TABLES: dict[str, str] = {
    "line_crossings": "ts",
    "passby_events": "ts",
    "entrance_events": "ts",
    "occupancy_samples": "ts",
    "zone_visits": "enter_ts",
    "camera_health": "ts",
    "visitors": "last_seen",
    "heatmap_hours": "hour_start",  # aggregated, but kept like the events they sum
    "heatmap_days": "day_start",
}
KEPT_CLASSES = ("rollups", "audit_log", "alerts", "purchases", "service_sessions", "count_audits")


# --- the rules (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    """Rows created at or before these times are expired."""

    now: float
    crops: float
    face_images: float
    raw_events: float


def cutoffs(now: float, cfg: RetentionConfig) -> Cutoffs:
    return Cutoffs(
        now=now,
        crops=now - cfg.person_crops_days * DAY,
        face_images=now - cfg.face_images_days * DAY,
        raw_events=now - cfg.raw_events_days * DAY,
    )


def crop_expired(created_at: float, expires_at: float, now: float, cfg: RetentionConfig) -> bool:
    """A person crop goes at its own expiry or after person_crops_days, whichever is first."""
    return expires_at <= now or created_at <= cutoffs(now, cfg).crops


def face_image_expired(created_at: float, now: float, cfg: RetentionConfig) -> bool:
    return created_at <= cutoffs(now, cfg).face_images


def face_record_expired(expires_at: float, now: float) -> bool:
    """A face record (embedding) goes at its own expiry (staff records are set far ahead)."""
    return expires_at <= now


def raw_event_expired(ts: float, now: float, cfg: RetentionConfig) -> bool:
    return ts <= cutoffs(now, cfg).raw_events


def rollup_expired(bucket_start: float, now: float, cfg: RetentionConfig) -> bool:
    """Rollups are what reports and HQ read: they are kept."""
    return False


# --- applying them ------------------------------------------------------------------------


@dataclass
class RetentionReport:
    now: float
    deleted: dict[str, int] = field(default_factory=dict)  # data class -> rows
    reclaimed_pages: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def _exec(session: Session, sql: str, params: tuple[Any, ...]) -> int:
    return int(session.connection().exec_driver_sql(sql, params).rowcount or 0)


def apply_retention(
    session: Session, now: float, cfg: RetentionConfig, actor: str = "retention"
) -> RetentionReport:
    """Delete what is expired at `now` (in the caller's writer transaction), with audit rows."""
    c = cutoffs(now, cfg)
    rep = RetentionReport(now=now)
    rep.deleted["person_crops"] = _exec(
        session, "DELETE FROM person_crops WHERE expires_at <= ? OR created_at <= ?", (now, c.crops)
    )
    # an audit's recording is pictures of people too: it goes with the person crops
    expired_rec = "SELECT id FROM audit_recordings WHERE expires_at <= ? OR created_at <= ?"
    rep.deleted["audit_frames"] = _exec(
        session, f"DELETE FROM audit_frames WHERE recording_id IN ({expired_rec})", (now, c.crops)
    )
    rep.deleted["audit_recordings"] = _exec(
        session,
        "DELETE FROM audit_recordings WHERE expires_at <= ? OR created_at <= ?",
        (now, c.crops),
    )
    rep.deleted["face_images"] = _exec(
        session,
        "UPDATE face_records SET image = NULL WHERE image IS NOT NULL AND created_at <= ?",
        (c.face_images,),
    )
    rep.deleted["face_records"] = _exec(
        session, "DELETE FROM face_records WHERE expires_at <= ?", (now,)
    )
    for table, col in RAW_EVENT_TABLES.items():
        rep.deleted[table] = _exec(
            session, f"DELETE FROM {table} WHERE {col} <= ?", (c.raw_events,)
        )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    for what, n in rep.deleted.items():
        if n:
            audit(session, actor, "delete", what, f"{n} row(s) expired as of {stamp}")
    session.merge(Setting(key=LAST_RUN_KEY, value=json.dumps(now), updated_at=time.time()))
    return rep


def run_retention(
    store: StoreAccess, cfg: RetentionConfig | None = None, now: float | None = None
) -> RetentionReport:
    """Apply the rules at `now` (default: the clock) and reclaim the freed space."""
    cfg = cfg or RetentionConfig()
    t = time.time() if now is None else now
    rep = store.writer.submit(lambda s: apply_retention(s, t, cfg)).result(300)
    if rep.total:
        rep.reclaimed_pages = reclaim_space(store)
    log.info("retention: deleted %s, reclaimed %d pages", rep.deleted, rep.reclaimed_pages)
    return rep


def last_run(store: StoreAccess) -> float | None:
    with store.read_session() as s:
        row = s.get(Setting, LAST_RUN_KEY)
        return float(json.loads(row.value)) if row else None


class RetentionScheduler:
    """APScheduler job: once at start-up (catch-up after the machine was off), then daily."""

    def __init__(
        self,
        store: StoreAccess,
        cfg: RetentionConfig | None = None,
        *,
        interval: timedelta = timedelta(days=1),
        clock: Callable[[], float] = time.time,
    ) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.store = store
        self.cfg = cfg or RetentionConfig()
        self.clock = clock
        self.interval = interval
        self.runs: list[RetentionReport] = []
        self.ran = threading.Event()
        self._scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 12 * 3600},
            executors={"default": {"type": "threadpool", "max_workers": 1}},
        )

    def start(self) -> None:
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self.interval.total_seconds(),
            next_run_time=datetime.now(),  # at once: catch up after downtime
            id="retention",
        )
        self._scheduler.start()

    def _run(self) -> None:
        try:
            self.runs.append(run_retention(self.store, self.cfg, self.clock()))
        except Exception:
            log.exception("retention run failed")
        try:  # the daily maintenance slot also keeps the planner's statistics fresh
            self.store.optimize()
        except Exception:
            log.exception("PRAGMA optimize failed")
        finally:
            self.ran.set()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
