"""The store-to-HQ payload (the wire format), version 1: builders, natural keys, encoding
and validation. Shared by the store (outbox rows), sync (uploads) and HQ (the receiver);
a bottom-layer module: it imports nothing from app.store, app.sync or app.hq.

A batch on the wire is one gzip-compressed JSON object (the envelope) whose `rows` are
`{"kind", "seq", "data"}`; `data` is exactly what the store's outbox row holds. The JSON
Schema in `resources/schemas/hq_payload_v1.json` refuses any field it does not name
(`additionalProperties: false` everywhere), so nothing personal can slip through: no
images, face data, visitor ids, person names or PINs.
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import logging
import math
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Final, Protocol

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app import __version__
from app.paths import RESOURCES_DIR

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
SUPPORTED_VERSIONS: Final = (1,)
SCHEMA_PATH = RESOURCES_DIR / "schemas" / "hq_payload_v1.json"
BUCKET_S: Final = 900

ROLLUP = "rollup"
SESSION_AGG = "session_agg"
SALES_AGG = "sales_agg"
ALERT = "alert"
CAMERA_HEALTH = "camera_health"
COUNT_AUDIT = "count_audit"
KPI_HOUR = "kpi_hour"
VISIT_DAY = "visit_day"  # opt-in recognition: new / returning / staff counts of a local day
KINDS: Final = (
    ROLLUP,
    SESSION_AGG,
    SALES_AGG,
    ALERT,
    CAMERA_HEALTH,
    COUNT_AUDIT,
    KPI_HOUR,
    VISIT_DAY,
)

# The fields that identify a row at HQ (within one store): a later row replaces it.
NATURAL_KEYS: Final[dict[str, tuple[str, ...]]] = {
    ROLLUP: ("scope", "name", "bucket_start"),
    SESSION_AGG: ("bucket_start", "zone", "salesperson_code"),
    SALES_AGG: ("bucket_start", "salesperson_code"),
    ALERT: ("alert_id",),
    CAMERA_HEALTH: ("camera", "bucket_start"),
    COUNT_AUDIT: ("audit_id",),
    KPI_HOUR: ("bucket_start",),
    VISIT_DAY: ("day",),
}


class PayloadError(ValueError):
    """A payload that does not follow the schema; the message is one line for a person."""


@functools.cache
def schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        return dict(json.load(fh))


@functools.cache
def envelope_validator() -> Draft202012Validator:
    """The reference validator (jsonschema): thorough, and slow (about 0.5 ms a row)."""
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


@functools.cache
def data_validator(kind: str) -> Draft202012Validator:
    if kind not in KINDS:
        raise PayloadError(f"unknown row kind {kind!r} (known: {', '.join(KINDS)})")
    sub = {"$defs": schema()["$defs"], "$ref": f"#/$defs/{kind}"}
    return Draft202012Validator(sub)


def _compiled(sub: dict[str, Any]) -> Callable[[Any], Any]:
    # the schema keeps to keywords that mean the same in draft 7, which fastjsonschema
    # compiles to plain Python (about 40x faster than jsonschema on a 500-row batch)
    sub = {k: v for k, v in copy.deepcopy(sub).items() if k not in ("$schema", "$id")}
    return fastjsonschema.compile(sub)


@functools.cache
def _fast_envelope() -> Callable[[Any], Any]:
    envelope_validator()  # the schema itself is checked once by the reference
    return _compiled(schema())


@functools.cache
def _fast_data(kind: str) -> Callable[[Any], Any]:
    data_validator(kind)
    defs = schema()["$defs"]
    return _compiled({**defs[kind], "$defs": defs})


def _describe(err: ValidationError) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
    return f"{where}: {err.message}"


def reference_errors(obj: object, kind: str | None = None) -> list[str]:
    """Every schema violation by the reference validator (tests compare it with the
    fast validator that `validate_envelope` / `validate_data` use)."""
    v = data_validator(kind) if kind else envelope_validator()
    return [_describe(e) for e in v.iter_errors(obj)]


def validate_data(kind: str, data: Mapping[str, Any]) -> None:
    """Raise PayloadError unless `data` is a valid row of `kind`."""
    try:
        _fast_data(kind)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise PayloadError(f"{kind} row {exc.message.replace('data', 'row', 1)}") from None
    if kind == VISIT_DAY:
        _check_day(data["day"])


def _check_day(day: str) -> None:
    """A calendar date (the schema's pattern lets 2026-02-31 through)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        raise PayloadError(f"visit_day row: day {day!r} is not a calendar date") from None


def check_version(obj: object) -> int:
    """The envelope's schema version, or PayloadError saying what is supported."""
    if not isinstance(obj, dict):
        raise PayloadError("the batch is not a JSON object")
    version = obj.get("schema_version")
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise PayloadError(
            f"unknown payload schema version {version!r}: this HQ understands version "
            f"{supported}; update the HQ receiver or the store app so that they match"
        )
    return int(version)


def validate_envelope(obj: object) -> dict[str, Any]:
    """Check the version, then the whole batch against the schema; returns the batch."""
    check_version(obj)
    assert isinstance(obj, dict)
    try:
        _fast_envelope()(obj)
    except fastjsonschema.JsonSchemaValueException as exc:
        msg = exc.message.replace("data", "batch", 1)
        raise PayloadError(f"batch does not follow schema v{SCHEMA_VERSION}: {msg}") from None
    for row in obj["rows"]:
        if row["kind"] == VISIT_DAY:
            _check_day(row["data"]["day"])
    return obj


# --- natural keys and row builders -------------------------------------------------------


class Rollup(Protocol):
    """What `rollup_data` reads from a rollup row (app.store.models.Rollup has it)."""

    bucket_start: float
    scope: str
    camera: str
    name: str
    entries: int
    exits: int
    passersby: int
    occupancy_peak: int
    dwell_count: int
    dwell_sum_s: float
    dwell_max_s: float


class AlertRow(Protocol):
    """What `alert_data` reads from an alert row (app.store.models.AlertRow has it)."""

    id: str
    kind: str
    subject: str
    camera: str
    zone: str
    ts: float
    last_seen: float
    count: int
    resolved_at: float | None
    acknowledged_at: float | None


def natural_key(kind: str, data: Mapping[str, Any]) -> str:
    """The outbox key of a row: kind plus its identifying fields (stable, readable)."""
    parts = [str(data[f]) for f in NATURAL_KEYS[kind]]
    return "|".join([kind, *parts])


def bucket_of(ts: float) -> int:
    return int(math.floor(ts / BUCKET_S) * BUCKET_S)


def _num(x: float | None) -> float:
    return round(float(x or 0.0), 3)


def rollup_data(r: Rollup) -> dict[str, Any]:
    """The wire form of a 15-minute rollup row."""
    return {
        "bucket_start": bucket_of(r.bucket_start),
        "scope": r.scope,
        "camera": r.camera or "",
        "name": r.name,
        "entries": int(r.entries or 0),
        "exits": int(r.exits or 0),
        "passersby": int(r.passersby or 0),
        "occupancy_peak": int(r.occupancy_peak or 0),
        "dwell_count": int(r.dwell_count or 0),
        "dwell_sum_s": _num(r.dwell_sum_s),
        "dwell_max_s": _num(r.dwell_max_s),
    }


def _time(x: float | None) -> float | None:
    return None if x is None else float(x)


def alert_data(a: AlertRow) -> dict[str, Any]:
    """An alert without its free-text message or who acknowledged it: kind, subject and
    times (`ts` is when it opened)."""
    return {
        "alert_id": a.id,
        "kind": a.kind,
        "subject": a.subject or "",
        "camera": a.camera or "",
        "zone": a.zone or "",
        "ts": float(a.ts),
        "last_seen": float(a.last_seen or a.ts),
        "count": int(a.count or 1),
        "resolved_at": _time(a.resolved_at),
        "acknowledged_at": _time(a.acknowledged_at),
    }


class CountAuditRow(Protocol):
    """What `count_audit_data` reads (app.store.models.CountAudit has it)."""

    id: str
    ts: float
    camera: str
    line: str
    duration_s: float
    matched: int
    missed: int
    extra: int
    accuracy: float


def count_audit_data(a: CountAuditRow) -> dict[str, Any]:
    """A counting audit's figures: when, which line, matched / missed / extra and
    accuracy (not the times of the misses, nor any picture)."""
    return {
        "audit_id": a.id,
        "ts": float(a.ts),
        "camera": a.camera or "",
        "line": a.line,
        "duration_s": _num(a.duration_s),
        "matched": int(a.matched),
        "missed": int(a.missed),
        "extra": int(a.extra),
        "accuracy": round(float(a.accuracy), 4),
    }


def visit_day_data(day: str, new: int, returning: int, staff: int) -> dict[str, Any]:
    """Opt-in recognition's figures of one local day (YYYY-MM-DD): counts only, never a
    template, an id, a name or a time finer than the day."""
    return {
        "day": day,
        "new_visitors": int(new),
        "returning_visitors": int(returning),
        "staff_excluded": int(staff),
    }


def dumps(data: Mapping[str, Any]) -> str:
    """Canonical compact JSON (sorted keys) so that equal payloads compare equal."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)


# --- the envelope on the wire ------------------------------------------------------------


def wire_row(kind: str, seq: int, payload_json: str) -> bytes:
    """One row of the `rows` array, spliced from the outbox's stored JSON (no re-parse)."""
    return b'{"kind":%s,"seq":%d,"data":%s}' % (
        json.dumps(kind).encode(),
        seq,
        payload_json.encode(),
    )


def envelope_bytes(
    store_id: str,
    timezone: str,
    batch_id: str,
    rows: Iterable[bytes],
    sent_at: float,
    backlog: tuple[int, float | None] | None = None,
) -> bytes:
    """The batch as bytes; `backlog` is (rows still waiting after this batch, the time the
    oldest of them was made), so HQ can show how far behind a store is."""
    head: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "store_id": store_id,
        "batch_id": batch_id,
        "timezone": timezone,
        "sent_at": round(sent_at, 3),
        "app_version": __version__,
    }
    if backlog is not None:
        waiting, oldest = backlog
        head["backlog"] = {
            "rows": waiting,
            "oldest_at": None if oldest is None or waiting == 0 else round(oldest, 3),
        }
    return dumps(head)[:-1].encode() + b',"rows":[' + b",".join(rows) + b"]}"


def encode_body(raw: bytes, level: int = 6) -> bytes:
    return gzip.compress(raw, compresslevel=level, mtime=0)


def decode_body(body: bytes, encoding: str, max_inflated: int) -> dict[str, Any]:
    """Inflate (gzip or identity) and parse a batch; PayloadError on anything broken."""
    enc = (encoding or "identity").strip().lower()
    if enc == "gzip":
        raw = _gunzip(body, max_inflated)
    elif enc == "identity":
        raw = body
    else:
        raise PayloadError(f"unsupported Content-Encoding {encoding!r} (use gzip)")
    if len(raw) > max_inflated:
        raise PayloadError(f"the batch is larger than {max_inflated} bytes uncompressed")
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the batch is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise PayloadError("the batch is not a JSON object")
    return obj


def _gunzip(body: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise PayloadError(f"the batch body is not valid gzip data ({exc})") from None
    if len(out) > limit:
        raise PayloadError(f"the batch is larger than {limit} bytes uncompressed")
    if not d.eof:
        raise PayloadError(
            "the batch body is incomplete (the gzip stream is cut off); nothing was stored"
        )
    if d.unused_data.strip(b"\0"):
        raise PayloadError("the batch body has bytes after the end of its gzip stream")
    return out
