"""Counting audits in the store: their results (kept, listed, queued for HQ), the frames
recorded for them (encrypted in the store like person crops, expiring with them, every
replay audited) and each camera's reference view for the drift check."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import wire
from app.count_audit import AuditResult
from app.store.audit import audit
from app.store.models import AuditFrame, AuditRecording, CountAudit, ViewReference, new_id
from app.store.outbox import enqueue

WRITE_TIMEOUT_S = 60.0


class StoreAccess(Protocol):
    """What these helpers need of an open store (app.store.db.Store has it)."""

    @property
    def writer(self) -> Any: ...

    def read_session(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class AuditRecord:
    """One kept audit, as the desktop lists it."""

    id: str
    ts: float
    camera: str
    line: str
    duration_s: float
    matched: int
    missed: int
    extra: int
    accuracy: float
    tolerance_s: float = 1.0
    detail: dict[str, Any] = field(default_factory=dict)
    recording_id: int | None = None

    @property
    def source(self) -> str:
        """"camera" (recorded from the live camera) or "clip" (a clip file, which may
        show another view: kept in the store, not sent to HQ as the camera's audit)."""
        return str(self.detail.get("source", "camera"))


def _record(r: CountAudit) -> AuditRecord:
    try:
        detail = json.loads(r.detail or "{}")
    except ValueError:
        detail = {}
    return AuditRecord(
        r.id, r.ts, r.camera, r.line, r.duration_s, r.matched, r.missed, r.extra,
        r.accuracy, r.tolerance_s, detail, r.recording_id,
    )  # fmt: skip


def save_audit(
    store: StoreAccess,
    camera: str,
    line: str,
    result: AuditResult,
    duration_s: float,
    *,
    recording_id: int | None = None,
    ts: float | None = None,
    actor: str = "manager",
    from_camera: bool = True,
) -> AuditRecord:
    """Keep an audit's result and queue its figures for HQ (same transaction). An audit
    of a clip file (`from_camera=False`) is kept but not sent: the clip may not be the
    camera's view, so it says nothing of the camera's counting at HQ."""
    detail: dict[str, Any] = {
        "source": "camera" if from_camera else "clip",
        "missed": [{"t": round(c.t, 3), "direction": c.direction} for c in result.missed],
        "extra": [{"t": round(c.t, 3), "direction": c.direction} for c in result.extra],
    }
    row = CountAudit(
        id=new_id(),
        ts=time.time() if ts is None else ts,
        camera=camera,
        line=line,
        duration_s=float(duration_s),
        matched=result.matched,
        missed=len(result.missed),
        extra=len(result.extra),
        accuracy=result.accuracy,
        tolerance_s=result.tolerance_s,
        detail=json.dumps(detail),
        recording_id=recording_id,
    )

    def job(s: Session) -> AuditRecord:
        s.add(row)
        if from_camera:
            data = wire.count_audit_data(row)
            enqueue(s, wire.COUNT_AUDIT, wire.natural_key(wire.COUNT_AUDIT, data), data)
        figures = f"{row.matched}/{row.missed}/{row.extra} accuracy {row.accuracy:.3f}"
        audit(s, actor, "count_audit", f"{camera}/{line}", f"matched/missed/extra {figures}")
        s.flush()
        return _record(row)

    rec: AuditRecord = store.writer.submit(job).result(WRITE_TIMEOUT_S)
    return rec


def list_audits(session: Session, camera: str | None = None, limit: int = 200) -> list[AuditRecord]:
    """The kept audits, newest first (of one camera if given)."""
    q = select(CountAudit).order_by(CountAudit.ts.desc()).limit(limit)
    if camera is not None:
        q = q.where(CountAudit.camera == camera)
    return [_record(r) for r in session.scalars(q)]


def last_audit_ts(session: Session, camera: str) -> float | None:
    ts = session.scalar(select(func.max(CountAudit.ts)).where(CountAudit.camera == camera))
    return None if ts is None else float(ts)


# --- recordings --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    id: int
    camera: str
    created_at: float
    fps: float
    width: int
    height: int
    frames: int


def save_recording(
    store: StoreAccess,
    camera: str,
    frames: Iterable[tuple[float, bytes]],
    fps: float,
    size: tuple[int, int],
    ttl_s: float,
    now: float | None = None,
) -> Recording:
    """Keep recorded frames (t seconds, JPEG bytes) in the store; they expire after `ttl_s`."""
    t0 = time.time() if now is None else now
    items = list(frames)

    def job(s: Session) -> Recording:
        rec = AuditRecording(
            camera=camera, created_at=t0, expires_at=t0 + ttl_s, fps=float(fps),
            width=int(size[0]), height=int(size[1]), frames=len(items),
        )  # fmt: skip
        s.add(rec)
        s.flush()
        s.add_all(
            AuditFrame(recording_id=rec.id, idx=i, t=float(t), jpeg=jpeg)
            for i, (t, jpeg) in enumerate(items)
        )
        audit(s, "vision", "record", f"audit_recording:{rec.id}", f"{camera}, {len(items)} frames")
        return Recording(rec.id, camera, t0, rec.fps, rec.width, rec.height, len(items))

    out: Recording = store.writer.submit(job).result(WRITE_TIMEOUT_S)
    return out


def load_recording(
    store: StoreAccess, recording_id: int, actor: str, now: float | None = None
) -> tuple[Recording, list[tuple[float, bytes]]] | None:
    """An unexpired recording's frames; the view is audited before they are returned."""
    t = time.time() if now is None else now
    with store.read_session() as s:
        rec = s.get(AuditRecording, recording_id)
        if rec is None or rec.expires_at <= t:
            return None
        meta = Recording(
            rec.id, rec.camera, rec.created_at, rec.fps, rec.width, rec.height, rec.frames
        )
        rows = s.execute(
            select(AuditFrame.t, AuditFrame.jpeg)
            .where(AuditFrame.recording_id == recording_id)
            .order_by(AuditFrame.idx)
        ).all()
    store.writer.submit(
        lambda s: audit(s, actor, "view", f"audit_recording:{recording_id}", meta.camera)
    ).result(WRITE_TIMEOUT_S)
    return meta, [(float(t), bytes(jpeg)) for t, jpeg in rows]


def delete_recording(store: StoreAccess, recording_id: int, actor: str) -> None:
    def job(s: Session) -> None:
        s.execute(delete(AuditFrame).where(AuditFrame.recording_id == recording_id))
        s.execute(delete(AuditRecording).where(AuditRecording.id == recording_id))
        audit(s, actor, "delete", f"audit_recording:{recording_id}")

    store.writer.submit(job).result(WRITE_TIMEOUT_S)


# --- reference views (drift check) ------------------------------------------------------


def set_reference(
    store: StoreAccess, camera: str, png: bytes, source: str = "audit", ts: float | None = None
) -> None:
    when = time.time() if ts is None else ts
    store.writer.submit(
        lambda s: s.merge(ViewReference(camera=camera, ts=when, source=source, png=png))
    ).result(WRITE_TIMEOUT_S)


def get_reference(session: Session, camera: str) -> tuple[float, bytes] | None:
    row = session.get(ViewReference, camera)
    return None if row is None else (float(row.ts), bytes(row.png))
