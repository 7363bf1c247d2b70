"""The store's alerts: which are open, the list for a person, acknowledging them.

Rule alerts (app/alerts.py) are written by the single writer from the bus
(`AlertOpened` / `AlertUpdated` / `AlertResolved` of app/alerts.py, see
app/store/ingest.py); a notice
(any other kind: no rule resolves it) is over once acknowledged. Every change here is
queued for HQ in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import RULE_KINDS, AlertRecord
from app.store.models import AlertRow
from app.store.outbox import alert_outbox, enqueue


class _HasWriter(Protocol):
    """A store's single writer (app.store.db.Store has it)."""

    @property
    def writer(self) -> Any: ...


def record(row: AlertRow) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        kind=row.kind,
        subject=row.subject or "",
        message=row.message,
        opened_at=row.ts,
        last_seen=row.last_seen or row.ts,
        camera=row.camera or "",
        zone=row.zone or "",
        count=row.count or 1,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by or "",
    )


def list_alerts(
    session: Session, *, include_resolved: bool = False, limit: int = 200
) -> list[AlertRecord]:
    """Open alerts (all of them, newest first; with `include_resolved`, the latest
    `limit` of every alert)."""
    q = select(AlertRow).order_by(AlertRow.ts.desc(), AlertRow.id)
    q = q.limit(limit) if include_resolved else q.where(AlertRow.resolved_at.is_(None))
    return [record(r) for r in session.scalars(q)]


@dataclass(frozen=True)
class Acknowledged:
    ids: list[str]


def acknowledge_in(
    session: Session, ids: Sequence[str] | None, who: str, now: float
) -> Acknowledged:
    """In the writer's transaction: acknowledge the open alerts `ids` (None: all open
    ones) not acknowledged yet; a notice acknowledged is also resolved."""
    q = select(AlertRow).where(
        AlertRow.acknowledged_at.is_(None), AlertRow.resolved_at.is_(None)
    )
    if ids is not None:
        q = q.where(AlertRow.id.in_(list(ids)))
    done: list[str] = []
    for row in session.scalars(q):
        row.acknowledged_at, row.acknowledged_by = now, who[:80]
        if row.kind not in RULE_KINDS:
            row.resolved_at = now
        key, data = alert_outbox(row)
        enqueue(session, "alert", key, data)
        done.append(row.id)
    session.flush()
    return Acknowledged(done)


def acknowledge(
    store: _HasWriter, ids: Sequence[str] | None, who: str, now: float | None = None
) -> Future[Acknowledged]:
    """Acknowledge through the store's single writer; the Future resolves after COMMIT."""
    t = time.time() if now is None else now
    return store.writer.submit(lambda s: acknowledge_in(s, ids, who, t))
