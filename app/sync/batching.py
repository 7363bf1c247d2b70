"""Pure decisions of the sync worker: how outbox rows become batches, how long to wait.

No I/O here. A batch holds at most `max_rows` rows and its gzip body at most
`max_bytes`, rows in outbox order. Its idempotency key is a random UUID that the worker
commits on the rows before the upload, so a resend after a failure or a crash is the
very same batch with the same key.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.wire import encode_body, envelope_bytes, wire_row

MAX_ROWS = 500
MAX_BYTES = 1_000_000
ENVELOPE_MARGIN = 1024  # room for the envelope's own fields


@dataclass(frozen=True)
class OutboxItem:
    """An outbox row as the worker sees it."""

    id: int
    kind: str
    payload: str  # the row's data, JSON
    batch_id: str | None = None

    def wire(self) -> bytes:
        return wire_row(self.kind, self.id, self.payload)


@dataclass(frozen=True)
class Batch:
    batch_id: str
    items: tuple[OutboxItem, ...]
    is_new: bool  # False: a resend of a batch whose upload was never acknowledged

    @property
    def ids(self) -> list[int]:
        return [i.id for i in self.items]


def new_batch_id() -> str:
    return str(uuid.uuid4())


def gzip_size(items: Sequence[OutboxItem]) -> int:
    """Size of the compressed body these rows would make (envelope included)."""
    raw = envelope_bytes("x" * 36, "UTC", "0" * 36, (i.wire() for i in items), 0.0)
    return len(encode_body(raw)) + ENVELOPE_MARGIN


def _fits(items: Sequence[OutboxItem], max_bytes: int) -> bool:
    raw = sum(len(i.wire()) + 1 for i in items) + ENVELOPE_MARGIN
    if raw <= max_bytes:  # JSON of this kind never grows under gzip
        return True
    return gzip_size(items) <= max_bytes


def split(
    items: Sequence[OutboxItem], max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES
) -> list[list[OutboxItem]]:
    """Cut rows, in order, into chunks of at most `max_rows` rows and `max_bytes` gzip.

    A single row larger than `max_bytes` still goes alone (the schema's length limits
    keep real rows far below it)."""
    if max_rows < 1 or max_bytes < 1:
        raise ValueError("max_rows and max_bytes must be positive")
    out: list[list[OutboxItem]] = []
    i = 0
    while i < len(items):
        n = min(max_rows, len(items) - i)
        while n > 1 and not _fits(items[i : i + n], max_bytes):
            n = max(1, n // 2)
        out.append(list(items[i : i + n]))
        i += n
    return out


def backoff_delay(
    failures: int,
    base_s: float = 5.0,
    cap_s: float = 300.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after `failures` consecutive failures: exponential, capped, with
    "equal jitter" (between half and all of the step) so that stores do not retry in step."""
    if failures <= 0:
        return 0.0
    step = min(cap_s, base_s * 2.0 ** min(failures - 1, 30))
    return min(cap_s, step / 2 + rand() * step / 2)
