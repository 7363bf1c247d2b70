"""Small write operations the UI and the LAN server need (each runs in the writer)."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from app.store.audit import audit
from app.store.db import Store
from app.store.models import AlertRow
from app.store.outbox import alert_outbox, enqueue


def acknowledge_alert(store: Store, alert_id: str, actor: str) -> bool:
    """Mark an alert acknowledged (and queue the change for HQ); False if unknown/done."""

    def job(s: Session) -> bool:
        row = s.get(AlertRow, alert_id)
        if row is None or row.acknowledged_at is not None:
            return False
        row.acknowledged_at = time.time()
        row.acknowledged_by = actor[:80]
        audit(s, actor, "acknowledge", f"alert:{alert_id}", row.kind)
        key, data = alert_outbox(
            {
                c: getattr(row, c)
                for c in ("id", "kind", "message", "camera", "zone", "ts", "acknowledged_at")
            }
        )
        enqueue(s, "alert", key, data)
        return True

    return bool(store.writer.submit(job).result(30))
