"""PostgreSQL access: the async engine and sessions, table definitions, Alembic migrations
and the database roles the platform runs as.

An adapter: it may import ``aether.settings`` and the core only; the audit log builds on it,
not the other way round.
"""
