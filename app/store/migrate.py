"""Alembic, driven from code: the store migrates itself on its own SQLCipher connection.

Revision ids are the file name prefixes in migrations/versions (0001_..., 0002_...), so
checking whether a store is current needs no Alembic import; Alembic is loaded only when
there is something to migrate.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from app.store.errors import StoreTooNew

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REV_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def known_revisions() -> list[str]:
    """Revisions from base to head (file name prefixes, in order)."""
    names = (p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    return sorted(m.group(1) for n in names if (m := _REV_FILE.match(n)))


def head_revision() -> str:
    return known_revisions()[-1]


def check_known(revision: str | None) -> None:
    """Refuse a database written by a newer app (its revision is unknown here)."""
    if revision is None or revision in known_revisions():
        return
    raise StoreTooNew(
        f"this store was written by a newer version of Vitrine (schema {revision}; this "
        f"version knows up to {head_revision()}): update Vitrine to open it (nothing was changed)"
    )


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    log.info("migrating the store to %s", revision)
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    log.info("downgrading the store to %s", revision)
    command.downgrade(alembic_config(connection), revision)
