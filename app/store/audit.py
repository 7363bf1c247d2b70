"""The audit log, and the only doors to person images: every view, export or deletion of
an image writes who, what and when (in the same transaction as a deletion; before the
bytes are handed out for a view or export)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.store.access import StoreAccess, reclaim_space
from app.store.models import AuditLog, PersonCrop

log = logging.getLogger(__name__)


def audit(session: Session, actor: str, action: str, target: str, detail: str = "") -> None:
    """Add an audit row (who, what, when) in the caller's (writer) transaction."""
    session.add(
        AuditLog(
            ts=time.time(),
            actor=actor[:120],
            action=action[:40],
            target=target[:200],
            detail=detail,
        )
    )


def get_crop(store: StoreAccess, visitor_id: str, actor: str) -> bytes | None:
    """The newest unexpired crop of a visitor; the view is audited before it is returned."""
    now = time.time()
    with store.read_session() as s:
        row = s.execute(
            select(PersonCrop.id, PersonCrop.jpeg)
            .where(PersonCrop.visitor_id == visitor_id, PersonCrop.expires_at > now)
            .where(PersonCrop.jpeg.is_not(None))
            .order_by(PersonCrop.created_at.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    store.writer.submit(
        lambda s: audit(s, actor, "view", f"person_crop:{row.id}", f"visitor {visitor_id}")
    ).result(30)
    return bytes(row.jpeg)


def delete_crops(store: StoreAccess, visitor_id: str, actor: str) -> int:
    """Delete every crop of a visitor now (e.g. on request); audited; returns the count."""

    def job(s: Session) -> int:
        res = s.execute(delete(PersonCrop).where(PersonCrop.visitor_id == visitor_id))
        n = int(getattr(res, "rowcount", 0) or 0)
        if n:
            audit(s, actor, "delete", f"person_crops of visitor {visitor_id}", f"{n} crop(s)")
        return int(n or 0)

    n = store.writer.submit(job).result(30)
    if n:
        reclaim_space(store)
    return n


def export_crops(
    store: StoreAccess, dest: Path, actor: str, visitor_ids: list[str] | None = None
) -> int:
    """Write unexpired crops as JPEG files into `dest` (audited first); returns the count."""
    now = time.time()
    q = select(PersonCrop.id, PersonCrop.visitor_id, PersonCrop.jpeg).where(
        PersonCrop.expires_at > now, PersonCrop.jpeg.is_not(None)
    )
    if visitor_ids is not None:
        q = q.where(PersonCrop.visitor_id.in_(visitor_ids))
    with store.read_session() as s:
        rows = s.execute(q).all()
    if not rows:
        return 0
    ids = ",".join(str(r.id) for r in rows)
    store.writer.submit(
        lambda s: audit(s, actor, "export", f"{len(rows)} person crop(s) to {dest}", f"ids {ids}")
    ).result(30)
    dest.mkdir(parents=True, exist_ok=True)
    for r in rows:
        (dest / f"crop-{r.id}-{r.visitor_id}.jpg").write_bytes(bytes(r.jpeg))
    return len(rows)
