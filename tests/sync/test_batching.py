"""Pure batching decisions: limits, order, pending batches kept whole, backoff."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sync import batching
from app.sync.batching import OutboxItem, backoff_delay, gzip_size, split


def _item(i: int, size: int = 40, batch_id: str | None = None, noise: bool = False) -> OutboxItem:
    blob = os.urandom(size // 2).hex() if noise else "x" * size
    return OutboxItem(i, "rollup", json.dumps({"n": i, "blob": blob}), batch_id)


@pytest.mark.parametrize(
    ("n", "max_rows", "sizes"),
    [
        (0, 500, []),
        (1, 500, [1]),
        (500, 500, [500]),
        (501, 500, [500, 1]),
        (1234, 500, [500, 500, 234]),
        (7, 3, [3, 3, 1]),
    ],
)
def test_split_respects_row_limit_and_order(n: int, max_rows: int, sizes: list[int]) -> None:
    items = [_item(i) for i in range(1, n + 1)]
    chunks = split(items, max_rows=max_rows)
    assert [len(c) for c in chunks] == sizes
    assert [i.id for c in chunks for i in c] == list(range(1, n + 1))


def test_split_respects_gzip_byte_limit_with_incompressible_rows() -> None:
    # 200 rows of ~6 kB of random hex: ~1.2 MB raw, ~0.65 MB gzip -> one limit of 100 kB
    items = [_item(i, 6000, noise=True) for i in range(1, 201)]
    chunks = split(items, max_rows=500, max_bytes=100_000)
    assert len(chunks) > 5
    for c in chunks:
        assert gzip_size(c) <= 100_000
    assert [i.id for c in chunks for i in c] == list(range(1, 201))


def test_compressible_rows_fill_a_batch_even_beyond_raw_limit() -> None:
    # 500 rows of 3 kB of 'x': 1.5 MB raw but a few kB gzip: one batch under 1 MB gzip
    items = [_item(i, 3000) for i in range(1, 501)]
    chunks = split(items, max_rows=500, max_bytes=1_000_000)
    assert [len(c) for c in chunks] == [500]
    assert gzip_size(chunks[0]) < 1_000_000


def test_a_single_oversized_row_still_goes_alone() -> None:
    items = [_item(1, 10), _item(2, 50_000, noise=True), _item(3, 10)]
    chunks = split(items, max_rows=500, max_bytes=10_000)
    assert [[i.id for i in c] for c in chunks] == [[1], [2], [3]]


def test_split_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        split([_item(1)], max_rows=0)


def test_new_batch_ids_are_unique_uuids() -> None:
    got = {batching.new_batch_id() for _ in range(1000)}
    assert len(got) == 1000
    assert all(len(g) == 36 for g in got)


@pytest.mark.parametrize(
    ("failures", "rand", "expected"),
    [
        (0, 0.5, 0.0),
        (1, 0.0, 2.5),  # half of the 5 s step
        (1, 1.0, 5.0),
        (2, 0.0, 5.0),
        (3, 1.0, 20.0),
        (7, 1.0, 300.0),  # 320 s step, capped at 300
        (50, 0.0, 150.0),  # capped step 300, equal jitter lower bound
        (10_000, 1.0, 300.0),  # no overflow
    ],
)
def test_backoff_is_exponential_capped_with_jitter(
    failures: int, rand: float, expected: float
) -> None:
    assert backoff_delay(failures, 5.0, 300.0, lambda: rand) == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=3000), max_size=300),
    max_rows=st.integers(min_value=1, max_value=120),
    max_bytes=st.integers(min_value=2_000, max_value=200_000),
)
def test_split_property(sizes: list[int], max_rows: int, max_bytes: int) -> None:
    items = [_item(i, s, noise=(i % 3 == 0)) for i, s in enumerate(sizes, start=1)]
    chunks = split(items, max_rows=max_rows, max_bytes=max_bytes)
    assert [i for c in chunks for i in c] == items  # nothing lost, duplicated or reordered
    for c in chunks:
        assert 1 <= len(c) <= max_rows
        assert len(c) == 1 or gzip_size(c) <= max_bytes
