"""Alembic from the first table on: 0001 -> head -> base, and migrate-on-open with a backup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from app.store import migrate
from app.store.backup import backups_dir
from app.store.connect import init_new_database, make_engine, raw_connect
from app.store.db import open_store
from app.store.keys import header_path, resolve_key
from app.store.models import Base, Rollup

PASS = "migrations"


@contextmanager
def _admin(db: Path) -> Iterator[Connection]:
    key = resolve_key(db, PASS, create=True)
    if not db.exists():
        c = raw_connect(db, key)
        init_new_database(c)
        c.close()
    engine = make_engine(db, key, "admin")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _rev(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _seed_0001(conn: Connection) -> None:
    conn.exec_driver_sql(
        "INSERT INTO rollups (bucket_start, scope, camera, name, entries, exits, passersby, "
        "occupancy_peak, dwell_count, dwell_sum_s, dwell_max_s) "
        "VALUES (900, 'zone', 'cam', 'till', 4, 3, 0, 2, 3, 90.0, 40.0)"
    )
    conn.exec_driver_sql(
        "INSERT INTO settings (key, value, updated_at) VALUES ('store.name', '\"Shop\"', 1)"
    )
    conn.commit()


def test_revision_files_form_one_chain() -> None:
    chain = [s.revision for s in reversed(list(migrate.script().walk_revisions()))]
    assert chain == migrate.known_revisions() == ["0001", "0002"]
    assert migrate.script().get_current_head() == migrate.head_revision()


def test_upgrade_first_to_head_and_back_to_base(db_path: Path) -> None:
    with _admin(db_path) as conn:
        migrate.upgrade(conn, "0001")
        assert _rev(conn) == "0001"
        assert "updated_at" not in {c["name"] for c in inspect(conn).get_columns("rollups")}
        _seed_0001(conn)
        migrate.upgrade(conn, "head")
        assert _rev(conn) == migrate.head_revision() == "0002"
        row = conn.exec_driver_sql(
            "SELECT entries, exits, dwell_sum_s, updated_at FROM rollups WHERE name = 'till'"
        ).one()
        assert tuple(row) == (4, 3, 90.0, 0.0)  # data kept, new column filled
        idx = {i["name"] for i in inspect(conn).get_indexes("sync_outbox")}
        assert "ix_sync_outbox_pending" in idx
        migrate.downgrade(conn, "0001")
        assert _rev(conn) == "0001"
        assert conn.exec_driver_sql("SELECT entries FROM rollups").scalar() == 4
        assert conn.exec_driver_sql("SELECT value FROM settings").scalar() == '"Shop"'
        migrate.downgrade(conn, "base")
        assert _rev(conn) is None
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}


def test_models_match_migrations(db_path: Path) -> None:
    with _admin(db_path) as conn:
        migrate.upgrade(conn, "head")
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_open_migrates_after_an_encrypted_backup(db_path: Path) -> None:
    with _admin(db_path) as conn:
        migrate.upgrade(conn, "0001")
        _seed_0001(conn)
    with open_store(db_path, PASS) as store:
        assert store.revision() == "0002"
        with store.read_session() as s:
            assert s.query(Rollup).one().entries == 4
    (backup,) = backups_dir(db_path).glob("*.db")
    assert "before-0002" in backup.name
    assert header_path(backup).exists()
    assert b"Shop" not in backup.read_bytes()  # the backup is encrypted too
    conn = raw_connect(backup, resolve_key(backup, PASS, create=False))
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert conn.execute("SELECT entries FROM rollups").fetchone()[0] == 4
    finally:
        conn.close()


def test_no_backup_when_nothing_to_migrate(db_path: Path) -> None:
    with open_store(db_path, PASS):
        pass
    with open_store(db_path, PASS):
        pass
    assert not list(backups_dir(db_path).glob("*.db"))
