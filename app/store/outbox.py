"""The sync outbox: rows for HQ, written in the same transaction that produced them.

`enqueue` keeps at most one pending row per (kind, key): while a row is unsent and not
yet taken by an upload batch, a newer payload replaces it instead of adding a duplicate.
The HQ sync code owns the payload schema (app.wire: kinds, natural keys, row
builders); this module only calls it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app import wire as payload
from app.store.models import AlertRow, Rollup


def rollup_key(scope: str, name: str, bucket_start: float) -> str:
    """Natural key of a rollup bucket (HQ upserts by it)."""
    return payload.natural_key(
        payload.ROLLUP,
        {"scope": scope, "name": name, "bucket_start": payload.bucket_of(bucket_start)},
    )


def rollup_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The outbox payload of one rollup bucket (aggregates only, no personal data)."""
    return payload.rollup_data(Rollup(**row))


def alert_outbox(row: Mapping[str, Any] | AlertRow) -> tuple[str, dict[str, Any]]:
    """(key, payload) of an alert (without its free text)."""
    data = payload.alert_data(row if isinstance(row, AlertRow) else AlertRow(**row))
    return payload.natural_key(payload.ALERT, data), data


def dumps(data: Mapping[str, Any]) -> str:
    """Canonical compact JSON (sorted keys)."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)


def enqueue_json(cur: Any, kind: str, key: str, text: str, now: float) -> None:
    """`enqueue` on a raw DB-API cursor inside the writer's transaction (the fast path)."""
    cur.execute(
        "UPDATE sync_outbox SET payload = ?, created_at = ? "
        "WHERE kind = ? AND key = ? AND sent_at IS NULL AND batch_id IS NULL",
        (text, now, kind, key),
    )
    if cur.rowcount == 0:
        cur.execute(
            "INSERT INTO sync_outbox (kind, key, payload, created_at, attempts) "
            "VALUES (?, ?, ?, ?, 0)",
            (kind, key, text, now),
        )


def enqueue(session: Session, kind: str, key: str, data: Mapping[str, Any]) -> None:
    """Queue `data` for HQ under (kind, key) in the caller's writer transaction; a pending
    row of the same (kind, key) that no upload batch has taken yet gets the new payload."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    cur = conn.cursor()
    try:
        enqueue_json(cur, kind, key, dumps(data), time.time())
    finally:
        cur.close()
