"""Store one validated batch in PostgreSQL, exactly once.

One transaction per batch: first the batch's (store_id, batch_key) goes into `batches`
with ON CONFLICT DO NOTHING, so a repeated batch stops there and changes nothing; then
every row is upserted by its natural key, replacing what HQ holds only when the row is
newer (a higher outbox `seq`), so batches arriving out of order cannot roll data back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Double,
    Engine,
    Integer,
    String,
    Table,
    func,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.hq import daily
from app.hq.models import TABLES, TIME_COLUMNS, Batch, Store
from app.wire import NATURAL_KEYS

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


def db_rows(
    kind: str, rows: Iterable[Mapping[str, Any]], store_id: str, batch_pk: int
) -> list[dict[str, Any]]:
    """Wire rows of one kind -> table rows; per natural key only the highest seq is kept
    (PostgreSQL refuses to upsert one key twice in a statement). Times stay epoch
    seconds here; the upsert turns them into timestamptz."""
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    key_fields = NATURAL_KEYS[kind]
    for r in rows:
        data = r["data"]
        key = tuple(data[f] for f in key_fields)
        old = best.get(key)
        if old is not None and old["seq"] >= r["seq"]:
            continue
        best[key] = {**data, "store_id": store_id, "seq": int(r["seq"]), "batch_id": batch_pk}
    return list(best.values())


def _pg_array_type(col: Column[Any]) -> str:
    if col.name in TIME_COLUMNS:
        return "float8[]"  # epoch seconds, converted by to_timestamp()
    t = col.type
    if isinstance(t, BigInteger):
        return "int8[]"
    if isinstance(t, Integer):
        return "int4[]"
    if isinstance(t, Double):
        return "float8[]"
    if isinstance(t, String):
        return "text[]"
    if isinstance(t, Date):
        return "date[]"  # YYYY-MM-DD on the wire
    raise TypeError(f"no array type for {col.table.name}.{col.name} ({t})")


@functools.cache
def upsert_sql(table: Table) -> tuple[str, tuple[str, ...]]:
    """INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT (natural key)
    DO UPDATE ... WHERE the row is newer: one short, cacheable statement per batch and
    table, whatever the number of rows (a 500-row VALUES list would cost more to build
    and parse than the database spends on it)."""
    cols = tuple(c.name for c in table.columns if c.name != "updated_at")
    pk = [c.name for c in table.primary_key.columns]
    arrays = ", ".join(f"%s::{_pg_array_type(table.c[c])}" for c in cols)
    select = ", ".join(f"to_timestamp(u.{c})" if c in TIME_COLUMNS else f"u.{c}" for c in cols)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in pk)
    sql = (
        f"INSERT INTO {table.name} AS t ({', '.join(cols)}, updated_at) "
        f"SELECT {select}, now() FROM unnest({arrays}) AS u({', '.join(cols)}) "
        f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {sets}, updated_at = now() "
        "WHERE t.seq < EXCLUDED.seq RETURNING 1"
    )
    return sql, cols


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Upsert rows of one table; returns how many inserted or replaced a row."""
    if not rows:
        return 0
    sql, cols = upsert_sql(table)
    params = tuple([r.get(c) for r in rows] for c in cols)
    return len(conn.exec_driver_sql(sql, params).all())


def _backlog(batch: Mapping[str, Any]) -> dict[str, Any]:
    """The stores row's backlog columns from a batch (a store that does not report it:
    NULL, shown as "not reported")."""
    b = batch.get("backlog")
    if b is None:
        return {"backlog_rows": None, "backlog_oldest_at": None}
    oldest = b.get("oldest_at")
    return {
        "backlog_rows": int(b["rows"]),
        "backlog_oldest_at": None if oldest is None else datetime.fromtimestamp(oldest, UTC),
    }


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
        days = daily.touched_days(rows, batch["timezone"])
        if days is not None:
            daily.refresh(conn, store_id, batch["timezone"], *days)
        conn.execute(
            update(Store)
            .where(Store.store_id == store_id)
            .values(last_batch_at=func.now(), timezone=batch["timezone"], **_backlog(batch))
        )
    log.info("store %s batch %s: %d rows, %d applied", store_id, batch_key, len(rows), applied)
    return IngestResult("stored", batch_key, len(rows), applied)
