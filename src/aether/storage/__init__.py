"""PostgreSQL access: engine and session setup, table definitions, Alembic migrations."""
