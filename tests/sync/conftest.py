"""Fixtures of the HQ sync tests: a real PostgreSQL server (Debian's binaries, started
once per test session in a temporary directory), a fresh HQ database per test, the
real HQ receiver as a child process, and a real encrypted local store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.hq import auth, db
from app.hq.testing_pg import HqProcess, TempPostgres
from app.store.db import Store, open_store
from app.store.writer import WriterOptions


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


def _new_db(pg: TempPostgres) -> tuple[str, str]:
    name = f"hq_{uuid.uuid4().hex[:12]}"
    return name, pg.create_database(name)


@dataclass
class HqServer:
    url: str  # database URL
    engine: Engine
    process: HqProcess


@pytest.fixture(scope="module")
def hq_server(pg_server: TempPostgres) -> Iterator[HqServer]:
    """One real receiver (`python main.py hq ...`) and database per test module."""
    name, url = _new_db(pg_server)
    engine = db.make_engine(url, pool_size=2)
    db.migrate(engine)
    process = HqProcess(url).start()
    try:
        yield HqServer(url, engine, process)
    finally:
        process.stop()
        engine.dispose()
        pg_server.drop_database(name)


@dataclass
class Hq:
    """The module's receiver, seen by one freshly provisioned store."""

    url: str
    engine: Engine
    server: HqProcess
    store_id: str
    key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def count(self, table: str) -> int:
        """Rows of this test's store in `table`."""
        with self.engine.connect() as conn:
            q = text(f"SELECT count(*) FROM {table} WHERE store_id = :s")
            return int(conn.execute(q, {"s": self.store_id}).scalar_one())


@pytest.fixture
def hq(hq_server: HqServer) -> Hq:
    store_id = f"store-{uuid.uuid4().hex[:10]}"
    key = auth.add_store(hq_server.engine, store_id, "Test store", "Europe/Paris")
    return Hq(hq_server.url, hq_server.engine, hq_server.process, store_id, key)


@pytest.fixture
def local_store(_isolated_data_dir: Path) -> Iterator[Store]:
    s = open_store(_isolated_data_dir / "vitrine.db", writer_options=WriterOptions(batch_ms=5))
    try:
        yield s
    finally:
        s.close()
