"""Each camera's heatmap kept across a restart: the aggregated grid of seconds of presence
per cell (never a picture), one `settings` row per camera, in the encrypted store."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.store.models import Setting

PREFIX = "heatmap."


def save_heatmaps(store: Any, snapshots: dict[str, dict[str, Any]], timeout: float = 10.0) -> None:
    """Write {camera: Heatmap.snapshot()} through the store's writer."""
    if not snapshots:
        return

    def job(s: Session) -> None:
        for camera, snap in snapshots.items():
            s.merge(Setting(key=PREFIX + camera, value=json.dumps(snap)))

    store.writer.submit(job).result(timeout=timeout)


def load_heatmap(store: Any, camera: str) -> dict[str, Any] | None:
    with store.read_session() as s:
        row = s.get(Setting, PREFIX + camera)
    if row is None:
        return None
    try:
        value = json.loads(row.value)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
