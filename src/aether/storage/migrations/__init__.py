"""Alembic's environment and the migration scripts, run by :mod:`aether.storage.migrate`."""
