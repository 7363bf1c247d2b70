"""Alembic, driven from code: the store migrates itself on its own SQLCipher connection."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from app.store.errors import StoreTooNew

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script().get_current_head()
    assert head is not None, "no migrations found"
    return head


def known_revisions() -> list[str]:
    """Revisions from base to head."""
    return [s.revision for s in reversed(list(script().walk_revisions()))]


def check_known(revision: str | None) -> None:
    """Refuse a database written by a newer app (its revision is unknown here)."""
    if revision is None or revision in known_revisions():
        return
    raise StoreTooNew(
        f"this store was written by a newer version of Vitrine (schema {revision}; this "
        f"version knows up to {head_revision()}): update Vitrine to open it (nothing was changed)"
    )


def upgrade(connection: Connection, revision: str = "head") -> None:
    log.info("migrating the store to %s", revision)
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    log.info("downgrading the store to %s", revision)
    command.downgrade(alembic_config(connection), revision)
