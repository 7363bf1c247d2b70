"""HQ's database: URL handling, the engine, and migrations run from code at start."""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "hq_alembic_version"
MIGRATION_LOCK = 0x56_49_54_52  # pg_advisory_xact_lock key: "VITR"
PARTITION_RE = re.compile(r"^(rollups|session_aggs|sales_aggs|camera_health)_(\d{6}|default)$")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: the monthly partitions are not model tables."""
    return not (type_ == "table" and name is not None and PARTITION_RE.match(name))


class HqDatabaseError(RuntimeError):
    """The HQ database cannot be used; the message is one line for a person."""


def normalize_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver."""
    url = url.strip()
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
            break
    else:
        raise HqDatabaseError(
            f"HQ needs a PostgreSQL URL like postgresql://user:password@host:5432/db, "
            f"not {_redact(url)!r}"
        )
    try:
        make_url(url)
    except ArgumentError as exc:
        raise HqDatabaseError(f"not a valid database URL: {exc}") from None
    return url


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def make_engine(url: str, pool_size: int = 10) -> Engine:
    return create_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def alembic_config(connection: object | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema; an advisory lock lets several HQ processes start together."""
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            command.upgrade(alembic_config(conn), revision)
            if revision == "head":
                _ensure_partitions(conn)
    except OperationalError as exc:
        raise HqDatabaseError(describe_db_error(engine, exc)) from None


def _ensure_partitions(conn: Connection) -> None:
    """Monthly partitions from last month to a year ahead (the migration's function)."""
    conn.execute(
        text(
            "SELECT vitrine_ensure_partitions((now() - interval '1 month')::date, "
            "(now() + interval '12 months')::date)"
        )
    )


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        command.downgrade(alembic_config(conn), revision)


def describe_db_error(engine: Engine, exc: Exception) -> str:
    where = engine.url.render_as_string(hide_password=True)
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return f"cannot use the HQ database {where}: {first}"


def check(engine: Engine) -> None:
    """Raise HqDatabaseError unless a trivial query works."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise HqDatabaseError(describe_db_error(engine, exc)) from None
