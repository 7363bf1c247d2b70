"""Paired tablets from the manager's side: list them, revoke one (its open services end
at their last scan). Used by the running server (`TabletService`) and by the CLI from
another process."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.models import AuditLog, ItemScan, PairedDevice, Salesperson, ServiceSession
from app.sync.store_protocol import StoreLike, write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    label: str
    salesperson_id: int
    salesperson_name: str
    created_at: float
    last_seen: float | None
    revoked_at: float | None


def _end_open_services(s: Session, device_id: str, at: float) -> None:
    """A revoked tablet's open services end at their last scan (or start): nobody can
    end them any more, and an open service would go on explaining sales."""
    open_ = s.execute(
        select(ServiceSession).where(
            ServiceSession.device_id == device_id, ServiceSession.ended_at.is_(None)
        )
    ).scalars()
    for ss in open_:
        last = s.scalar(select(func.max(ItemScan.ts)).where(ItemScan.session_id == ss.id))
        ss.ended_at = min(at, max(ss.started_at, last or ss.started_at))
        log.info("service %s ended with its revoked tablet", ss.id)


def revoke_device(store: StoreLike, device_id: str, at: float | None = None) -> bool:
    """Revoke a paired tablet's token (False: unknown or already revoked). A running
    server's `TabletService.revoke` also clears its token cache at once; from another
    process the revocation reaches the server within `CACHE_S` seconds."""

    def _revoke(s: Session) -> bool:
        dev = s.get(PairedDevice, device_id)
        if dev is None or dev.revoked_at is not None:
            return False
        dev.revoked_at = time.time() if at is None else at
        s.add(AuditLog(actor="manager", action="revoke", target=f"device {device_id}"))
        _end_open_services(s, device_id, dev.revoked_at)
        return True

    done = write(store, _revoke)
    if done:
        log.info("device %s revoked", device_id)
    return done


def list_devices(store: StoreLike, include_revoked: bool = False) -> list[DeviceInfo]:
    """Paired tablets, newest first."""
    with store.read_session() as s:
        q = (
            select(PairedDevice, Salesperson.name)
            .outerjoin(Salesperson, Salesperson.id == PairedDevice.salesperson_id)
            .order_by(PairedDevice.created_at.desc())
        )
        if not include_revoked:
            q = q.where(PairedDevice.revoked_at.is_(None))
        return [
            DeviceInfo(
                d.id, d.label, d.salesperson_id, n or "?", d.created_at, d.last_seen, d.revoked_at
            )
            for d, n in s.execute(q).all()
        ]
