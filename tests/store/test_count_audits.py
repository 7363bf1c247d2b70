"""Counting audits in the store: results kept and queued for HQ, recordings encrypted,
audited when replayed and gone with the person crops."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app import wire
from app.config import RetentionConfig
from app.count_audit import Crossing, match_crossings
from app.store import count_audits as ca
from app.store import retention as r
from app.store.db import Store
from app.store.keys import resolve_key
from app.store.models import AuditFrame, AuditLog, OutboxRow
from tests.store.sqlcipher_pages import decrypted_db, decrypted_wal

NOW = 1_800_000_000.0
DAY = 86400.0


def _result() -> object:
    truth = [Crossing("door", "in", 1.0), Crossing("door", "out", 5.0)]
    counted = [Crossing("door", "in", 1.3), Crossing("door", "in", 9.0)]
    return match_crossings(truth, counted)


def test_audit_kept_listed_and_queued_for_hq(store: Store) -> None:
    result = _result()
    rec = ca.save_audit(store, "entrance", "door", result, 180.0, ts=NOW)  # type: ignore[arg-type]
    assert (rec.matched, rec.missed, rec.extra) == (1, 1, 1)
    assert rec.accuracy == 1 / 3
    assert rec.detail == {"source": "camera", "missed": [{"t": 5.0, "direction": "out"}],
                          "extra": [{"t": 9.0, "direction": "in"}]}  # fmt: skip
    assert rec.source == "camera"
    with store.read_session() as s:
        assert [a.id for a in ca.list_audits(s)] == [rec.id]
        assert ca.list_audits(s, camera="other") == []
        assert ca.last_audit_ts(s, "entrance") == NOW
        row = s.scalars(select(OutboxRow).where(OutboxRow.kind == wire.COUNT_AUDIT)).one()
    data = json.loads(row.payload)
    wire.validate_data(wire.COUNT_AUDIT, data)
    assert data == {"audit_id": rec.id, "ts": NOW, "camera": "entrance", "line": "door",
                    "duration_s": 180.0, "matched": 1, "missed": 1, "extra": 1,
                    "accuracy": 0.3333}  # fmt: skip


def test_recording_encrypted_replay_audited_and_expires(store: Store, db_path: Path) -> None:
    marker = b"AuditFrameMarker-91c3"
    frames = [(i / 5, marker * 50 + bytes([i])) for i in range(10)]
    rec = ca.save_recording(store, "entrance", frames, 5.0, (640, 480), ttl_s=7 * DAY, now=NOW)
    assert rec.frames == 10
    key = resolve_key(db_path, None, create=False)
    wal = db_path.with_name(db_path.name + "-wal")
    raw = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert marker not in raw  # encrypted at rest
    assert marker in decrypted_db(db_path, key) + decrypted_wal(wal, key)  # control
    got = ca.load_recording(store, rec.id, "manager", now=NOW + 60)
    assert got is not None and [t for t, _ in got[1]] == [t for t, _ in frames]
    with store.read_session() as s:
        actions = s.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target)).all()
    assert ("manager", "view", f"audit_recording:{rec.id}") in actions
    # retention: gone with the person crops (7 days by default)
    rep = r.run_retention(store, RetentionConfig(), now=NOW + 8 * DAY)
    assert rep.deleted["audit_recordings"] == 1 and rep.deleted["audit_frames"] == 10
    assert ca.load_recording(store, rec.id, "manager", now=NOW + 8 * DAY) is None
    with store.read_session() as s:
        assert s.scalar(select(func.count()).select_from(AuditFrame)) == 0


def test_reference_view_round_trip(store: Store) -> None:
    ca.set_reference(store, "entrance", b"png-1", "setup", ts=NOW)
    ca.set_reference(store, "entrance", b"png-2", "audit", ts=NOW + 1)
    with store.read_session() as s:
        assert ca.get_reference(s, "entrance") == (NOW + 1, b"png-2")
        assert ca.get_reference(s, "other") is None


def test_an_audit_of_a_clip_file_is_kept_but_not_sent(store: Store) -> None:
    """A clip file may show another view than the camera's: its audit is listed at the
    store, never queued for HQ as the camera's counting accuracy."""
    rec = ca.save_audit(store, "entrance", "door", _result(), 60.0, ts=NOW, from_camera=False)  # type: ignore[arg-type]
    assert rec.source == "clip"
    with store.read_session() as s:
        assert [a.source for a in ca.list_audits(s)] == ["clip"]
        assert s.scalars(select(OutboxRow).where(OutboxRow.kind == wire.COUNT_AUDIT)).all() == []
