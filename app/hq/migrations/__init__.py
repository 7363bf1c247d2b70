"""Alembic migrations of the HQ receiver database (run by app.hq.db.migrate)."""
