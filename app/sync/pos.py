"""POS purchases: CSV import (a generator yielding progress) and the signed webhook.

CSV import: map the file's columns, check every row (each problem reported with its
line number), then write all valid rows in ONE writer transaction, skipping
(transaction id, line) pairs already stored, and link them to service sessions. A file
that is not a CSV, not in the chosen encoding or lacks a mapped column is refused
before anything is written.

Webhook: the POS posts a JSON body with `X-Vitrine-Timestamp: <epoch seconds>` and
`X-Vitrine-Signature: sha256=<hex>`, the HMAC-SHA256 with the store's secret of
`<timestamp>.<raw body>` (the timestamp is signed so that it cannot be refreshed on a
captured request). A timestamp more than 5 minutes away is stale. A transaction id
already recorded is answered 'duplicate' and adds nothing. A rejected request writes
nothing to the store (the LAN server counts rejections in memory).

Sale times, from a file or the webhook, must lie within the last `MAX_SALE_AGE_DAYS`
days and at most `MAX_SALE_AHEAD_S` ahead of now (`sale_time_problem`): year 0001 or
9999, epoch 0 or a time in milliseconds is a mistake, not a sale.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import queue
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import AuditLog, PosImport, Purchase, Setting
from app.sync.csvio import (
    BARCODE_WORDS,
    CsvRefused,
    CsvTable,
    cell,
    guess_columns,
    read_csv,
    require_columns,
)
from app.sync.linking import DEFAULT_WINDOW_S, link_purchase_rows
from app.sync.pos_dates import DateOrder, detect_date_order, sale_time
from app.sync.pos_values import MAX_SALE_AGE_DAYS as MAX_SALE_AGE_DAYS
from app.sync.pos_values import MAX_SALE_AHEAD_S as MAX_SALE_AHEAD_S
from app.sync.pos_values import TIME_FORMATS as TIME_FORMATS
from app.sync.pos_values import decimal_mark as decimal_mark
from app.sync.pos_values import file_decimal_mark, sale_time_problem
from app.sync.pos_values import parse_amount as parse_amount
from app.sync.store_protocol import StoreLike, write

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vitrine-Signature"
TIMESTAMP_HEADER = "X-Vitrine-Timestamp"
TOLERANCE_S = 300.0
SECRET_KEY = "pos.webhook_secret"
_BARCODE = re.compile(r"^[\x21-\x7E]{1,64}$")

PosImportError = CsvRefused  # refused file: nothing imported

FIELDS = ("transaction_id", "time", "time_of_day", "barcode", "amount", "salesperson_code")
# the time of day may have a column of its own (then "time" holds the date); a file may
# have no salesperson code
OPTIONAL = ("time_of_day", "salesperson_code")
_GUESSES = {  # words looked for in column names, best first (see csvio.guess_columns)
    "transaction_id": (
        "transaction",
        "txn",
        "receipt",
        "ticket",
        "recu",
        "order",
        "commande",
    ),
    "time": ("timestamp", "datetime", "date", "time", "heure", "sold_at", "horodat", "_ts_"),
    # after "time" has taken its column: a separate time-of-day column beside a date
    "time_of_day": ("time", "heure", "hour"),
    "barcode": (*BARCODE_WORDS, "item"),
    "amount": ("amount", "montant", "total", "price", "prix", "value", "valeur", "_net"),
    "salesperson_code": (
        "salesperson",
        "vendeu",
        "employ",
        "staff",
        "cashier",
        "caissi",
        "seller",
        "clerk",
        "matricule",
    ),
}


@dataclass(frozen=True)
class PosMapping:
    """Header names of the file's columns for each field (salesperson code optional).
    `time` holds the date and time of the sale, or its date when `time_of_day` names a
    column of its own for the time (the two are read as "date time")."""

    transaction_id: str
    time: str
    barcode: str
    amount: str
    salesperson_code: str | None = None
    time_of_day: str | None = None

    def as_dict(self) -> dict[str, str]:
        d = {f: getattr(self, f) for f in FIELDS}
        return {k: v for k, v in d.items() if v}


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class PosRow:
    line: int
    transaction_id: str
    line_no: int
    ts: float
    barcode: str
    amount: float
    salesperson_code: str


@dataclass
class ImportResult:
    filename: str
    rows_total: int = 0
    imported: int = 0
    duplicates: int = 0
    linked: int = 0
    import_id: int | None = None
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportProgress:
    phase: str  # read | validate | write | done
    done: int
    total: int
    result: ImportResult | None = None


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[str]]
    delimiter: str
    guess: dict[str, str]


def guess_mapping(header: list[str]) -> dict[str, str]:
    """A best guess {field: header name} from common column names (English, French)."""
    return guess_columns(header, _GUESSES)


def preview(path: str | Path, encoding: str = "utf-8", n: int = 20) -> Preview:
    """The header and the first rows (raises PosImportError for a refused file)."""
    t = read_csv(path, encoding, max_rows=n)
    return Preview(t.header, [f for _, f in t.rows], t.delimiter, guess_mapping(t.header))


def file_date_order(table: CsvTable, mapping: PosMapping, tz: ZoneInfo) -> DateOrder:
    """Whether the file's numeric dates are day or month first, from all its rows."""
    cols = require_columns(table, mapping.as_dict())
    return detect_date_order(
        ((line, cell(f, cols["time"])) for line, f in table.rows), str(tz)
    )


def validate_rows(
    table: CsvTable,
    mapping: PosMapping,
    tz: ZoneInfo,
    time_format: str | None = None,
    now: float | None = None,
) -> tuple[list[PosRow], list[RowError]]:
    cols = require_columns(table, mapping.as_dict())
    now = time.time() if now is None else now
    rows: list[PosRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    decimal = file_decimal_mark(cell(f, cols["amount"]) for _, f in table.rows)
    order = file_date_order(table, mapping, tz)
    for line, fields in table.rows:
        if len(fields) != len(table.header):
            errors.append(
                RowError(line, f"{len(fields)} fields where the header has {len(table.header)}")
            )
            continue
        txn = cell(fields, cols["transaction_id"])
        code = cell(fields, cols["barcode"])
        sp = cell(fields, cols["salesperson_code"]) if "salesperson_code" in cols else ""
        reason = ""
        if not txn or len(txn) > 80:
            reason = "transaction id is empty" if not txn else "transaction id is too long"
        elif not _BARCODE.match(code):
            reason = f"barcode {code!r} is empty or not printable text" if code else "no barcode"
        elif len(sp) > 40:
            reason = "salesperson code is too long"
        tod = cell(fields, cols["time_of_day"]) if "time_of_day" in cols else None
        try:
            ts = sale_time(cell(fields, cols["time"]), tod, tz, time_format, order)
            reason = reason or sale_time_problem(ts, now)
        except ValueError as exc:
            reason = reason or str(exc)
        try:
            amount = parse_amount(cell(fields, cols["amount"]), decimal)
        except ValueError as exc:
            reason = reason or str(exc)
        if reason:
            errors.append(RowError(line, reason))
            continue
        seen[txn] = seen.get(txn, 0) + 1
        rows.append(PosRow(line, txn, seen[txn], ts, code, amount, sp))
    return rows, errors


def _existing(s: Session, rows: list[PosRow]) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    txns = sorted({r.transaction_id for r in rows})
    for i in range(0, len(txns), 500):
        chunk = txns[i : i + 500]
        q = select(Purchase.transaction_id, Purchase.line_no).where(
            Purchase.transaction_id.in_(chunk)
        )
        found.update((t, n) for t, n in s.execute(q).all())
    return found


def insert_purchases(
    s: Session,
    rows: list[PosRow],
    imp: PosImport,
    window_s: float,
    report: Callable[[int], None] = lambda n: None,
) -> tuple[int, int, int]:
    """Insert rows not stored yet and link them; returns (inserted, duplicates, linked)."""
    s.add(imp)
    s.flush()
    have = _existing(s, rows)
    new: list[Purchase] = []
    for i, r in enumerate(rows):
        if (r.transaction_id, r.line_no) in have:
            continue
        have.add((r.transaction_id, r.line_no))
        new.append(
            Purchase(
                transaction_id=r.transaction_id,
                line_no=r.line_no,
                ts=r.ts,
                barcode=r.barcode,
                amount=r.amount,
                salesperson_code=r.salesperson_code,
                import_id=imp.id,
            )
        )
        if i % 2000 == 0:
            report(i)
    s.add_all(new)
    s.flush()
    report(len(rows))
    link_purchase_rows(s, new, window_s)
    linked = sum(1 for p in new if p.session_id)
    imp.rows_imported = len(new)
    return len(new), len(rows) - len(new), linked


def import_pos_csv(
    store: StoreLike,
    path: str | Path,
    mapping: PosMapping,
    *,
    tz: str = "UTC",
    encoding: str = "utf-8",
    time_format: str | None = None,
    link_window_s: float = DEFAULT_WINDOW_S,
    now: float | None = None,
) -> Iterator[ImportProgress]:
    """Import a POS CSV export, yielding progress; the last item carries the result.
    Raises PosImportError (one line) for a refused file: nothing is written then."""
    yield ImportProgress("read", 0, 0)
    table = read_csv(path, encoding)
    zone = ZoneInfo(tz)
    total = len(table.rows)
    yield ImportProgress("validate", 0, total)
    rows, errors = validate_rows(table, mapping, zone, time_format, now)
    result = ImportResult(table.path.name, total, errors=errors)
    yield ImportProgress("validate", total, total)
    progress: queue.Queue[int] = queue.Queue()
    imp = PosImport(
        source="csv",
        filename=table.path.name[:260],
        sha256=table.sha256,
        rows_total=total,
        rows_invalid=len(errors),
    )

    def _write(s: Session) -> tuple[int, int, int, int]:
        with s.begin_nested():
            n, dup, linked = insert_purchases(s, rows, imp, link_window_s, progress.put)
        return n, dup, linked, imp.id

    fut = store.writer.submit(_write)
    while True:
        try:
            done = progress.get(timeout=0.1)
            yield ImportProgress("write", done, len(rows))
        except queue.Empty:
            if fut.done():
                break
    result.imported, result.duplicates, result.linked, result.import_id = fut.result()
    log.info(
        "POS import %s: %s rows, %s imported, %s duplicates, %s invalid, %s linked",
        result.filename,
        total,
        result.imported,
        result.duplicates,
        len(errors),
        result.linked,
    )
    yield ImportProgress("done", total, total, result)


# --- webhook ------------------------------------------------------------------------------


class WebhookRejected(Exception):
    """A webhook request that is not signed right or is stale; str() says why."""


def sign_webhook(secret: str, body: bytes, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_webhook_headers(timestamp: str | None, signature: str | None, now: float) -> float:
    """The signed timestamp, if the headers are there and it is fresh (no body needed)."""
    if not signature or not timestamp:
        raise WebhookRejected("missing signature or timestamp header")
    try:
        ts = float(timestamp)
    except ValueError:
        raise WebhookRejected("timestamp header is not a number") from None
    if not math.isfinite(ts) or abs(now - ts) > TOLERANCE_S:
        raise WebhookRejected("stale timestamp (more than 5 minutes away)")
    return ts


def verify_webhook(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float,
) -> None:
    check_webhook_headers(timestamp, signature, now)
    assert timestamp is not None and signature is not None
    if not hmac.compare_digest(sign_webhook(secret, body, timestamp), signature.strip()):
        raise WebhookRejected("bad signature")


def read_webhook_secret(store: StoreLike) -> str | None:
    """The store's webhook secret, None if none was made yet (a read only: what an
    unauthenticated request may do)."""
    with store.read_session() as s:
        row = s.get(Setting, SECRET_KEY)
        return None if row is None else str(row.value).strip('"')


def webhook_secret(store: StoreLike) -> str:
    """The store's webhook secret, made on first use."""
    found = read_webhook_secret(store)
    if found is not None:
        return found

    def _make(s: Session) -> str:
        row = s.get(Setting, SECRET_KEY)
        if row is None:
            row = Setting(key=SECRET_KEY, value='"' + secrets.token_hex(32) + '"')
            s.add(row)
        return str(row.value).strip('"')

    return write(store, _make)


def rotate_webhook_secret(store: StoreLike) -> str:
    new = secrets.token_hex(32)

    def _rotate(s: Session) -> None:
        s.merge(Setting(key=SECRET_KEY, value='"' + new + '"'))
        s.add(AuditLog(actor="manager", action="rotate", target="pos_webhook_secret"))

    write(store, _rotate)
    return new


def record_webhook(
    store: StoreLike, payload: Any, window_s: float = DEFAULT_WINDOW_S
) -> dict[str, Any]:
    """Store a verified webhook purchase (a `WebhookPurchase`), idempotent by transaction."""
    txn = payload.transaction_id
    rows = [
        PosRow(
            0, txn, ln.line or i + 1, payload.ts, ln.barcode, ln.amount, payload.salesperson_code
        )
        for i, ln in enumerate(payload.lines)
    ]
    if len({r.line_no for r in rows}) != len(rows):
        raise ValueError("line numbers repeat")

    def _record(s: Session) -> dict[str, Any]:
        if s.execute(select(Purchase.id).where(Purchase.transaction_id == txn).limit(1)).first():
            return {"status": "duplicate", "transaction_id": txn, "lines": 0, "linked": 0}
        imp = PosImport(source="webhook", filename=txn[:260], rows_total=len(rows))
        with s.begin_nested():
            n, _, linked = insert_purchases(s, rows, imp, window_s)
        return {"status": "recorded", "transaction_id": txn, "lines": n, "linked": linked}

    return write(store, _record)
