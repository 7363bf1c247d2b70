"""Retention rules (pure, fake clock), their application with audit rows, the scheduler,
and expired image bytes really gone from the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.config import RetentionConfig
from app.events import LineCross, NewVisitor
from app.store import retention as r
from app.store.audit import delete_crops, export_crops, get_crop
from app.store.db import Store
from app.store.keys import resolve_key
from app.store.models import AuditLog, FaceRecord, LineCrossing, PersonCrop, Rollup
from tests.store.sqlcipher_pages import decrypted_db, decrypted_wal

DAY = 86400.0
NOW = 1_750_000_000.0
CFG = RetentionConfig()


@pytest.mark.parametrize(
    ("age_days", "ttl_days", "expired"),
    [(0, 7, False), (6.9, 7, False), (7, 7, True), (8, 30, True), (1, 0.5, True), (0, 0, True)],
)
def test_crop_rule(age_days: float, ttl_days: float, expired: bool) -> None:
    created = NOW - age_days * DAY
    assert r.crop_expired(created, created + ttl_days * DAY, NOW, CFG) is expired


@pytest.mark.parametrize(
    ("age_days", "cfg", "expired"),
    [
        (29.9, CFG, False),
        (30, CFG, True),
        (5, RetentionConfig(face_images_days=3), True),
        (5, RetentionConfig(face_images_days=10), False),
    ],
)
def test_face_image_rule(age_days: float, cfg: RetentionConfig, expired: bool) -> None:
    assert r.face_image_expired(NOW - age_days * DAY, NOW, cfg) is expired


@pytest.mark.parametrize(
    ("age_days", "cfg", "expired"),
    [(399, CFG, False), (400, CFG, True), (31, RetentionConfig(raw_events_days=30), True)],
)
def test_raw_event_rule(age_days: float, cfg: RetentionConfig, expired: bool) -> None:
    assert r.raw_event_expired(NOW - age_days * DAY, NOW, cfg) is expired


@pytest.mark.parametrize("age_days", [0, 400, 4000])
def test_rollups_are_kept(age_days: float) -> None:
    assert r.rollup_expired(NOW - age_days * DAY, NOW, CFG) is False


def _seed(store: Store) -> None:
    for i, age in enumerate([1, 6, 8, 20]):
        ts = NOW - age * DAY
        store.writer.ingest(NewVisitor("cam", ts, i, 0.0, "z", f"v{age}", i, b"jpeg" * 10))
    for age in [10, 399, 401, 800]:
        ts = NOW - age * DAY
        store.writer.ingest(LineCross("cam", ts, 0, 0.0, "door", "in", age))

    def faces(s: Session) -> None:
        s.add(
            FaceRecord(
                embedding=b"e", image=b"img", created_at=NOW - 40 * DAY, expires_at=NOW + DAY
            )
        )
        s.add(
            FaceRecord(embedding=b"e", image=b"img", created_at=NOW - 2 * DAY, expires_at=NOW + DAY)
        )
        s.add(FaceRecord(embedding=b"e", image=None, created_at=NOW - 2 * DAY, expires_at=NOW - 1))

    store.writer.submit(faces)
    store.writer.flush()


def test_apply_retention_with_fake_clock(store: Store) -> None:
    _seed(store)  # crops made with the default 7-day expiry
    rep = r.run_retention(store, CFG, now=NOW)
    assert rep.deleted["person_crops"] == 2  # 8 and 20 days old
    assert rep.deleted["face_images"] == 1 and rep.deleted["face_records"] == 1
    assert rep.deleted["line_crossings"] == 2  # 401 and 800 days old
    with store.read_session() as s:
        assert sorted(s.scalars(select(PersonCrop.visitor_id))) == ["v1", "v6"]
        assert sorted(s.scalars(select(LineCrossing.track_id))) == [10, 399]
        assert (s.scalar(select(func.count()).select_from(Rollup)) or 0) > 0  # rollups kept
        audits = s.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target)).all()
    assert ("retention", "delete", "person_crops") in audits
    assert ("retention", "delete", "line_crossings") in audits
    assert r.last_run(store) == NOW
    again = r.run_retention(store, CFG, now=NOW)  # idempotent
    assert again.total == 0


def test_configurable(store: Store) -> None:
    _seed(store)
    rep = r.run_retention(store, RetentionConfig(person_crops_days=3, raw_events_days=5), now=NOW)
    assert rep.deleted["person_crops"] == 3
    assert rep.deleted["line_crossings"] == 4


def test_expired_crop_bytes_are_gone_from_the_file(store: Store, db_path: Path) -> None:
    marker = b"ExpiredCropMarker-4b1f"
    keep = b"FreshCropMarker-77aa"
    store.writer.ingest(NewVisitor("cam", NOW - 9 * DAY, 0, 0.0, "z", "old", 1, marker * 400))
    store.writer.ingest(NewVisitor("cam", NOW, 0, 0.0, "z", "new", 2, keep * 400))
    store.writer.flush()
    key = resolve_key(db_path, None, create=False)
    wal = db_path.with_name(db_path.name + "-wal")

    def plaintext() -> bytes:
        return decrypted_db(db_path, key) + decrypted_wal(wal, key)

    assert marker in plaintext()  # positive control
    size_before = db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    rep = r.run_retention(store, CFG, now=NOW)
    assert rep.deleted["person_crops"] == 1 and rep.reclaimed_pages > 0
    after = plaintext()
    assert marker not in after
    assert keep in after
    assert db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0) < size_before


def test_scheduler_runs_at_start_and_stops(store: Store) -> None:
    _seed(store)
    sched = r.RetentionScheduler(store, CFG, clock=lambda: NOW)
    sched.start()
    try:
        assert sched.ran.wait(30)
    finally:
        sched.stop()
    assert len(sched.runs) == 1 and sched.runs[0].deleted["person_crops"] == 2
    with store.read_session() as s:  # the same slot refreshed the planner's statistics
        analysed = set(s.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
    assert {"line_crossings", "person_crops"} <= analysed


def test_store_start_retention_is_stopped_by_close(store: Store) -> None:
    sched = store.start_retention(RetentionConfig(person_crops_days=2))
    assert sched.ran.wait(30)
    assert store.start_retention(CFG) is sched  # only one
    store.writer.ingest(NewVisitor("cam", NOW, 0, 0.0, "z", "v", 1, b"jpeg")).result(10)
    with store.read_session() as s:  # new crops follow the configured retention
        assert s.scalars(select(PersonCrop.expires_at)).one() == NOW + 2 * DAY


def test_crop_view_export_delete_are_audited(store: Store, tmp_path: Path) -> None:
    import time

    now = time.time()
    store.writer.ingest(NewVisitor("cam", now, 0, 0.0, "z", "v-9", 1, b"\xff\xd8crop")).result(10)
    assert get_crop(store, "v-9", "tablet:anna") == b"\xff\xd8crop"
    assert get_crop(store, "unknown", "tablet:anna") is None
    assert export_crops(store, tmp_path / "out", "manager") == 1
    assert len(list((tmp_path / "out").glob("*.jpg"))) == 1
    assert delete_crops(store, "v-9", "manager") == 1
    with store.read_session() as s:
        rows = s.execute(select(AuditLog.actor, AuditLog.action).order_by(AuditLog.id)).all()
    assert [tuple(x) for x in rows] == [
        ("tablet:anna", "view"),
        ("manager", "export"),
        ("manager", "delete"),
    ]
