"""Fixtures of the store tests: a fresh encrypted store in the test's data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.db import Store, open_store
from app.store.writer import WriterOptions


@pytest.fixture
def db_path(_isolated_data_dir: Path) -> Path:
    return _isolated_data_dir / "vitrine.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = open_store(db_path, writer_options=WriterOptions(batch_ms=5))
    try:
        yield s
    finally:
        s.close()
