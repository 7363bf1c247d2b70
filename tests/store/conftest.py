"""Fixtures of the store tests: a fresh encrypted store in the test's data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import keys
from app.store.db import Store, open_store
from app.store.writer import WriterOptions


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """New test stores use a cheaper scrypt cost (recorded in their header); the production
    cost is checked in test_keys.py."""
    monkeypatch.setattr(keys, "SCRYPT_N", 2**12)


@pytest.fixture
def db_path(_isolated_data_dir: Path) -> Path:
    return _isolated_data_dir / "vitrine.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = open_store(db_path, writer_options=WriterOptions())  # production defaults
    try:
        yield s
    finally:
        s.close()
