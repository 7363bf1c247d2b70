"""Fixtures of the HQ sync tests: a real PostgreSQL server (Debian's binaries, started
once per test session in a temporary directory), a fresh HQ database per test, the
real HQ receiver as a child process, and a real encrypted local store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.hq import auth, db
from app.hq.testing_pg import HqProcess, PostgresUnavailable, TempPostgres
from app.store.db import Store, open_store
from app.store.writer import WriterOptions

STORE_ID = "store-0001"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    try:
        pg = TempPostgres()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def hq_db_url(pg_server: TempPostgres) -> Iterator[str]:
    name = f"hq_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture
def hq_engine(hq_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(hq_db_url, pool_size=2)
    db.migrate(engine)
    yield engine
    engine.dispose()


@dataclass
class Hq:
    url: str  # database URL
    engine: Engine
    server: HqProcess
    store_id: str
    key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def count(self, table: str) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def hq(hq_db_url: str, hq_engine: Engine) -> Iterator[Hq]:
    """The real receiver (`python main.py hq ...`) with one provisioned store."""
    key = auth.add_store(hq_engine, STORE_ID, "Test store", "Europe/Paris")
    server = HqProcess(hq_db_url).start()
    try:
        yield Hq(hq_db_url, hq_engine, server, STORE_ID, key)
    finally:
        server.stop()


@pytest.fixture
def local_store(_isolated_data_dir: Path) -> Iterator[Store]:
    s = open_store(_isolated_data_dir / "vitrine.db", writer_options=WriterOptions(batch_ms=5))
    try:
        yield s
    finally:
        s.close()
