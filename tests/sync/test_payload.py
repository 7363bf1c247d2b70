"""The HQ payload schema: everything the app sends validates, nothing else gets through,
and nothing personal is ever in a batch."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from app import wire as pl
from app.store.db import Store
from app.store.kpi_queries import KpiParams
from app.sync import aggregates
from app.sync.batching import OutboxItem
from tests.sync.hq_data import MARKERS, T0, add_recognition, populate

BATCH_ID = "0b3c7d2e-4f1a-4a8e-9c55-2d7e8f9a0b1c"


def _objects(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for k, v in node.items():
            yield from _objects(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _objects(v, f"{path}/{i}")


# fields a store may leave out: added to version 1 later, so that HQ, upgraded first,
# still takes the rows of stores not upgraded yet
OPTIONAL = {
    "#": {"app_version", "backlog"},
    "#/$defs/alert": {"subject", "last_seen", "count", "resolved_at"},
}


def test_schema_is_valid_and_closed_everywhere() -> None:
    schema = pl.schema()
    pl.envelope_validator()  # check_schema raises on an invalid schema
    objects = list(_objects(schema))
    assert len(objects) >= 7  # envelope, row, 5 data kinds
    for path, obj in objects:
        assert obj.get("additionalProperties") is False, f"{path} accepts unknown fields"
        optional = OPTIONAL.get(path, set())
        assert set(obj["required"]) == set(obj["properties"]) - optional, path
    assert schema["properties"]["schema_version"] == {"const": pl.SCHEMA_VERSION}
    # each row kind's data is checked against its own closed schema
    row = schema["$defs"]["row"]
    assert row["properties"]["kind"]["enum"] == list(pl.KINDS)
    branches = {b["if"]["properties"]["kind"]["const"]: b["then"] for b in row["allOf"]}
    for kind in pl.KINDS:
        ref = branches[kind]["properties"]["data"]["$ref"]
        assert schema["$defs"][ref.rsplit("/", 1)[1]]["additionalProperties"] is False
    assert set(pl.KINDS) == set(pl.NATURAL_KEYS)


def _produced_batch(store: Store) -> tuple[bytes, dict[str, Any]]:
    """Everything the app queued for HQ from a realistic hour, as the worker sends it."""
    populate(store)
    add_recognition(store)  # opt-in recognition on: counts only may leave the store
    params = KpiParams(tz=ZoneInfo("Europe/Paris"), capacity=20, visitors_per_salesperson=5)
    store.writer.submit(lambda s: aggregates.refresh(s, T0 - 3600, T0 + 4 * 3600, params)).result(
        30
    )
    with store.read_session() as s:
        rows = s.execute(text("SELECT id, kind, payload FROM sync_outbox ORDER BY id")).all()
    items = [OutboxItem(r.id, r.kind, r.payload) for r in rows]
    raw = pl.envelope_bytes("store-1", "Europe/Paris", BATCH_ID, [i.wire() for i in items], T0)
    body = pl.encode_body(raw)
    return raw, pl.decode_body(body, "gzip", 10_000_000)


@pytest.fixture
def produced(local_store: Store) -> tuple[bytes, dict[str, Any]]:
    return _produced_batch(local_store)


def test_every_payload_the_app_produces_validates(produced: tuple[bytes, dict]) -> None:
    raw, batch = produced
    pl.validate_envelope(batch)
    kinds = {r["kind"] for r in batch["rows"]}
    assert kinds == set(pl.KINDS), f"kinds not produced by the app: {set(pl.KINDS) - kinds}"
    for r in batch["rows"]:
        pl.validate_data(r["kind"], r["data"])


def test_no_personal_data_in_a_batch(produced: tuple[bytes, dict]) -> None:
    raw, batch = produced
    for what, marker in MARKERS.items():
        assert marker.encode() not in raw, f"{what} leaked into the HQ payload"
    forbidden = {"visitor_id", "message", "name_of_person", "pin", "image", "jpeg", "embedding",
                 "template", "crop", "track_id", "staff_name", "person", "face", "vector"}  # fmt: skip
    keys = {k for r in batch["rows"] for k in r["data"]}
    assert not keys & forbidden
    assert not [k for k in keys if any(w in k for w in ("embed", "templ", "face", "crop"))]
    # recognition's counts are there, as counts of a day and nothing else
    (day,) = [r["data"] for r in batch["rows"] if r["kind"] == "visit_day"]
    assert day == {"day": "2026-01-01", "new_visitors": 2, "returning_visitors": 1,
                   "staff_excluded": 1}  # fmt: skip


def test_no_template_reaches_hq(local_store: Store) -> None:
    """Not a byte of a template, raw or base64, nor its first numbers as JSON."""
    import base64

    import numpy as np

    blobs = add_recognition(local_store)
    raw, _ = _produced_batch(local_store)
    for blob in blobs:
        for piece in (blob[:12], base64.b64encode(blob[:12])[:12], base64.b64encode(blob)[:16]):
            assert piece not in raw
        first = float(np.frombuffer(blob, np.float32)[0])
        assert f"{first:.5f}".encode()[:7] not in raw


def test_the_figures_match_the_store(produced: tuple[bytes, dict]) -> None:
    _, batch = produced
    rows = batch["rows"]
    # several versions of a bucket may be queued: HQ keeps the highest seq
    latest: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: r["seq"]):
        latest[pl.natural_key(r["kind"], r["data"])] = r["data"]
    ent = [d for k, d in latest.items() if k.startswith("rollup|entrance|")]
    assert sum(d["entries"] for d in ent) == 20
    assert sum(d["passersby"] for d in ent) == 20
    sales = [d for k, d in latest.items() if k.startswith("sales_agg|")]
    assert sum(d["transactions"] for d in sales) == 4  # T0, T2, T4, T-walkin
    assert sum(d["revenue"] for d in sales) == pytest.approx(19.9 + 21.9 + 23.9 + 7.5)
    sess = [d for k, d in latest.items() if k.startswith("session_agg|")]
    assert sum(d["sessions"] for d in sess) == 6
    assert sum(d["converted_sessions"] for d in sess) == 3


@pytest.mark.parametrize("kind", pl.KINDS)
def test_a_field_outside_the_schema_is_refused(produced: tuple[bytes, dict], kind: str) -> None:
    _, batch = produced
    row = next(r for r in batch["rows"] if r["kind"] == kind)
    bad = copy.deepcopy(row)
    bad["data"]["visitor_id"] = "abc"
    with pytest.raises(pl.PayloadError, match="visitor_id"):
        pl.validate_data(kind, bad["data"])
    env = {**batch, "rows": [bad]}
    with pytest.raises(pl.PayloadError, match="visitor_id"):
        pl.validate_envelope(env)
    wrapped = {**batch, "rows": [{**row, "extra": 1}]}
    with pytest.raises(pl.PayloadError):
        pl.validate_envelope(wrapped)


def test_extra_envelope_field_and_bad_values_are_refused(produced: tuple[bytes, dict]) -> None:
    _, batch = produced
    with pytest.raises(pl.PayloadError, match="store_name"):
        pl.validate_envelope({**batch, "store_name": "x"})
    row = next(r for r in batch["rows"] if r["kind"] == "rollup")
    for field, value in [("bucket_start", 1_767_258_001), ("entries", -1), ("scope", "face")]:
        bad = {**row, "data": {**row["data"], field: value}}
        with pytest.raises(pl.PayloadError, match=field):
            pl.validate_envelope({**batch, "rows": [bad]})
    with pytest.raises(pl.PayloadError, match="rows"):
        pl.validate_envelope({**batch, "rows": []})


def _mutations(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Valid and invalid variants of a real batch."""
    yield batch
    yield {**batch, "extra": 1}
    yield {**batch, "store_id": "bad id!"}
    yield {**batch, "rows": []}
    yield {k: v for k, v in batch.items() if k != "timezone"}
    for kind in pl.KINDS:
        row = next(r for r in batch["rows"] if r["kind"] == kind)
        for field in row["data"]:
            for value in (None, -1, "x" * 100, 1.5, 946684799):
                yield {**batch, "rows": [{**row, "data": {**row["data"], field: value}}]}
        yield {**batch, "rows": [{**row, "kind": "face"}]}
        yield {**batch, "rows": [{**row, "seq": 0}]}
        yield {**batch, "rows": [{k: v for k, v in row.items() if k != "seq"}]}


def test_fast_validator_agrees_with_the_reference(produced: tuple[bytes, dict]) -> None:
    _, batch = produced
    n_bad = 0
    for variant in _mutations(batch):
        reference_ok = not pl.reference_errors(variant)
        try:
            pl.validate_envelope(variant)
            fast_ok = True
        except pl.PayloadError:
            fast_ok = False
        assert fast_ok == reference_ok, (pl.reference_errors(variant)[:1], variant)
        n_bad += not fast_ok
    assert n_bad > 100


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_unknown_schema_version_has_a_clear_message(version: object) -> None:
    with pytest.raises(pl.PayloadError, match="unknown payload schema version.*understands"):
        pl.check_version({"schema_version": version, "rows": []})


def test_decode_body_refuses_broken_uploads() -> None:
    raw = json.dumps({"schema_version": 1, "rows": ["x" * 5000]}).encode()
    body = gzip.compress(raw)
    assert pl.decode_body(body, "gzip", 100_000)["schema_version"] == 1
    with pytest.raises(pl.PayloadError, match="incomplete"):
        pl.decode_body(body[: len(body) // 2], "gzip", 100_000)
    with pytest.raises(pl.PayloadError, match="not valid gzip"):
        pl.decode_body(b"hello, not gzip", "gzip", 100_000)
    with pytest.raises(pl.PayloadError, match="larger than"):
        pl.decode_body(gzip.compress(b"[" + b"0," * 60_000 + b"0]"), "gzip", 100_000)
    with pytest.raises(pl.PayloadError, match="after the end"):
        pl.decode_body(body + b"junk", "gzip", 100_000)
    with pytest.raises(pl.PayloadError, match="Content-Encoding"):
        pl.decode_body(body, "br", 100_000)
    with pytest.raises(pl.PayloadError, match="not valid JSON"):
        pl.decode_body(gzip.compress(b"{nope"), "gzip", 100_000)
    with pytest.raises(pl.PayloadError, match="not a JSON object"):
        pl.decode_body(b"[1, 2]", "identity", 100_000)


def test_wire_rows_are_spliced_verbatim() -> None:
    data = {"b": 1, "a": [1.5, "é"]}
    row = json.loads(pl.wire_row("rollup", 42, pl.dumps(data)))
    assert row == {"kind": "rollup", "seq": 42, "data": data}
    env = json.loads(pl.envelope_bytes("s", "UTC", BATCH_ID, [pl.wire_row("alert", 1, "{}")], T0))
    assert env["rows"] == [{"kind": "alert", "seq": 1, "data": {}}]
    assert env["schema_version"] == 1 and env["batch_id"] == BATCH_ID


ALERT_BEFORE_RULES = {
    "alert_id": "a-1", "kind": "camera_offline", "camera": "door", "zone": "",
    "ts": T0, "acknowledged_at": None,
}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (ALERT_BEFORE_RULES, True),  # a store before the alert rules
        ({**ALERT_BEFORE_RULES, "subject": "door", "last_seen": T0 + 5, "count": 2,
          "resolved_at": T0 + 9}, True),
        ({**ALERT_BEFORE_RULES, "resolved_at": None}, True),  # still open
        ({**ALERT_BEFORE_RULES, "message": "door is down"}, False),  # no free text
        ({**ALERT_BEFORE_RULES, "count": 0}, False),
        ({**ALERT_BEFORE_RULES, "subject": "x" * 81}, False),
    ],
)  # fmt: skip
def test_alert_rows_old_and_new(data: dict[str, Any], ok: bool) -> None:
    assert (pl.reference_errors(data, "alert") == []) is ok
    if ok:
        pl.validate_data("alert", data)
    else:
        with pytest.raises(pl.PayloadError):
            pl.validate_data("alert", data)
