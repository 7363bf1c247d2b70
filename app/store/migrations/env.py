"""Alembic environment of the local store.

Migrations run programmatically from `app.store.migrate` on the store's own SQLCipher
connection, passed in `config.attributes["connection"]`; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from app.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "store migrations run from app.store (python main.py store migrate), not alembic"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for the store")
run_migrations_online()
