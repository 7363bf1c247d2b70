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
    conn.exec_driver_sql(
        "INSERT INTO service_sessions (id, salesperson_id, zone, visitor_id, started_at, "
        "device_id) VALUES ('s1', 1, 'Shoes', '', 100.0, '')"
    )
    conn.exec_driver_sql(
        "INSERT INTO item_scans (session_id, barcode, ts, idempotency_key) "
        "VALUES ('s1', 'A', 110.0, 'k1')"
    )
    conn.exec_driver_sql(
        "INSERT INTO purchases (transaction_id, line_no, ts, barcode, amount, "
        "salesperson_code, session_id) VALUES ('t1', 1, 200.0, 'A', 9.5, '', 's1')"
    )
    conn.commit()


REPORT_INDEXES = {
    "purchases": {
        "ix_purchases_ts_barcode",
        "ix_purchases_barcode_ts",
        "ix_purchases_session_barcode",
    },
    "item_scans": {"ix_item_scans_session_barcode"},
    "zone_visits": {"ix_zone_visits_open"},
}
REPLACED_INDEXES = {
    "purchases": {"ix_purchases_ts", "ix_purchases_barcode", "ix_purchases_session_id"},
    "item_scans": {"ix_item_scans_session_id"},
    "zone_visits": set(),
}


def _indexes(conn: Connection, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(conn).get_indexes(table)}


def _plan(conn: Connection, sql: str) -> str:
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    return " | ".join(str(r[3]) for r in rows)


def test_revision_files_form_one_chain() -> None:
    chain = [s.revision for s in reversed(list(migrate.script().walk_revisions()))]
    assert chain == migrate.known_revisions() == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]
    assert migrate.script().get_current_head() == migrate.head_revision()


def test_upgrade_first_to_head_and_back_to_base(db_path: Path) -> None:
    with _admin(db_path) as conn:
        migrate.upgrade(conn, "0001")
        assert _rev(conn) == "0001"
        assert "updated_at" not in {c["name"] for c in inspect(conn).get_columns("rollups")}
        _seed_0001(conn)
        migrate.upgrade(conn, "head")
        assert _rev(conn) == migrate.head_revision() == "0010"
        assert {"count_audits", "audit_recordings", "audit_frames", "view_references"} <= set(
            inspect(conn).get_table_names()
        )
        row = conn.exec_driver_sql(
            "SELECT entries, exits, dwell_sum_s, updated_at FROM rollups WHERE name = 'till'"
        ).one()
        assert tuple(row) == (4, 3, 90.0, 0.0)  # data kept, new column filled
        assert "ix_sync_outbox_pending" in _indexes(conn, "sync_outbox")
        for table, wanted in REPORT_INDEXES.items():
            have = _indexes(conn, table)
            assert wanted <= have and not REPLACED_INDEXES[table] & have, table
        assert conn.exec_driver_sql("SELECT amount FROM purchases").scalar() == 9.5
        # the report queries are answered from the covering indexes alone
        plan = _plan(
            conn,
            "SELECT barcode, count(*), sum(amount) FROM purchases "
            "WHERE ts >= 0 AND ts < 1000 GROUP BY barcode",
        )
        assert "COVERING INDEX ix_purchases_" in plan, plan
        plan = _plan(conn, "SELECT barcode FROM item_scans WHERE session_id = 's1'")
        assert "COVERING INDEX ix_item_scans_session_barcode" in plan, plan
        plan = _plan(conn, "SELECT enter_ts FROM zone_visits WHERE exit_ts IS NULL")
        assert "ix_zone_visits_open" in plan, plan
        migrate.downgrade(conn, "0002")
        assert _rev(conn) == "0002"
        for table, wanted in REPORT_INDEXES.items():
            have = _indexes(conn, table)
            assert not wanted & have and REPLACED_INDEXES[table] <= have, table
        migrate.downgrade(conn, "0001")
        assert _rev(conn) == "0001"
        assert conn.exec_driver_sql("SELECT entries FROM rollups").scalar() == 4
        assert conn.exec_driver_sql("SELECT value FROM settings").scalar() == '"Shop"'
        migrate.downgrade(conn, "base")
        assert _rev(conn) is None
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}


def test_0004_marks_old_alerts_resolved_and_indexes_open_ones(db_path: Path) -> None:
    with _admin(db_path) as conn:
        migrate.upgrade(conn, "0003")
        conn.exec_driver_sql(
            "INSERT INTO alerts (id, kind, message, camera, zone, ts, acknowledged_at, "
            "acknowledged_by) VALUES ('a1', 'over_capacity', 'Shoes: 3 people', 'cam', "
            "'Shoes', 100.0, NULL, ''), ('a2', 'camera_offline', 'cam is offline', 'cam', '', "
            "200.0, 250.0, 'desktop')"
        )
        migrate.upgrade(conn, "head")
        rows = conn.exec_driver_sql(
            "SELECT id, subject, last_seen, count, resolved_at FROM alerts ORDER BY id"
        ).all()
        assert [tuple(r) for r in rows] == [
            ("a1", "Shoes", 100.0, 1, 100.0),
            ("a2", "cam", 200.0, 1, 250.0),
        ]
        plan = _plan(conn, "SELECT id FROM alerts WHERE kind = 'x' AND resolved_at IS NULL")
        assert "ix_alerts_open" in plan, plan
        migrate.downgrade(conn, "0003")
        assert "subject" not in {c["name"] for c in inspect(conn).get_columns("alerts")}
        assert conn.exec_driver_sql("SELECT count(*) FROM alerts").scalar() == 2


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
        assert store.revision() == migrate.head_revision()
        with store.read_session() as s:
            assert s.query(Rollup).one().entries == 4
    (backup,) = backups_dir(db_path).glob("*.db")
    assert f"before-{migrate.head_revision()}" in backup.name
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
