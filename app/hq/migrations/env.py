"""Alembic environment of the HQ receiver's PostgreSQL database.

Migrations run from `app.hq.db.migrate` (at every HQ start) on a connection passed in
`config.attributes["connection"]`; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from app.hq import dash_models  # noqa: F401  (the dashboard's tables join HqBase.metadata)
from app.hq.db import VERSION_TABLE
from app.hq.models import HqBase

config = context.config
target_metadata = HqBase.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("HQ migrations run from app.hq.db.migrate (python main.py hq ...)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for HQ")
run_migrations_online()
