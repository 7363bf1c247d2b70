"""Store one validated batch in PostgreSQL, exactly once.

One transaction per batch: first the batch's (store_id, batch_key) goes into `batches`
with ON CONFLICT DO NOTHING, so a repeated batch stops there and changes nothing; then
every row is upserted by its natural key, replacing what HQ holds only when the row is
newer (a higher outbox `seq`), so batches arriving out of order cannot roll data back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.hq.models import TABLES, TIME_COLUMNS, Batch, Store
from app.sync.payload import NATURAL_KEYS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    status: Literal["stored", "duplicate"]
    batch_key: str
    rows: int  # rows in the batch
    applied: int  # rows that inserted or replaced something at HQ

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "batch_id": self.batch_key,
            "rows": self.rows,
            "applied": self.applied,
        }


def _to_time(v: float | None) -> datetime | None:
    return None if v is None else datetime.fromtimestamp(float(v), UTC)


def db_rows(
    kind: str, rows: Iterable[Mapping[str, Any]], store_id: str, batch_pk: int
) -> list[dict[str, Any]]:
    """Wire rows of one kind -> table rows; per natural key only the highest seq is kept
    (PostgreSQL refuses to upsert one key twice in a statement)."""
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    key_fields = NATURAL_KEYS[kind]
    for r in rows:
        data = r["data"]
        key = tuple(data[f] for f in key_fields)
        old = best.get(key)
        if old is not None and old["seq"] >= r["seq"]:
            continue
        row = {k: (_to_time(v) if k in TIME_COLUMNS else v) for k, v in data.items()}
        row.update(store_id=store_id, seq=int(r["seq"]), batch_id=batch_pk)
        best[key] = row
    return list(best.values())


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    stmt = pg_insert(table).values(rows)
    pk = [c.name for c in table.primary_key.columns]
    changing: dict[str, Any] = {
        c.name: stmt.excluded[c.name]
        for c in table.columns
        if c.name not in pk and c.name != "updated_at"
    }
    changing["updated_at"] = func.now()
    stmt = stmt.on_conflict_do_update(
        index_elements=pk, set_=changing, where=table.c.seq < stmt.excluded.seq
    )
    res = conn.execute(stmt, execution_options={"preserve_rowcount": True})
    return max(0, int(res.rowcount))


def ingest_batch(
    engine: Engine, store_id: str, batch: Mapping[str, Any], batch_key: str, body_bytes: int
) -> IngestResult:
    """Apply a batch already authenticated and validated against the schema."""
    rows: list[Mapping[str, Any]] = batch["rows"]
    with engine.begin() as conn:
        inserted = conn.execute(
            pg_insert(Batch)
            .values(
                store_id=store_id,
                batch_key=batch_key,
                schema_version=int(batch["schema_version"]),
                row_count=len(rows),
                body_bytes=body_bytes,
            )
            .on_conflict_do_nothing(index_elements=["store_id", "batch_key"])
            .returning(Batch.id)
        ).scalar_one_or_none()
        if inserted is None:
            log.info("store %s resent batch %s: already stored", store_id, batch_key)
            return IngestResult("duplicate", batch_key, len(rows), 0)
        by_kind: dict[str, list[Mapping[str, Any]]] = {}
        for r in rows:
            by_kind.setdefault(r["kind"], []).append(r)
        applied = 0
        for kind, krows in by_kind.items():
            applied += _upsert(conn, TABLES[kind], db_rows(kind, krows, store_id, inserted))
        conn.execute(
            update(Store)
            .where(Store.store_id == store_id)
            .values(last_batch_at=func.now(), timezone=batch["timezone"])
        )
    log.info("store %s batch %s: %d rows, %d applied", store_id, batch_key, len(rows), applied)
    return IngestResult("stored", batch_key, len(rows), applied)
