"""Schema migrations (Alembic) driven from Python: ``aether db upgrade`` and ``db current``."""

from __future__ import annotations

import io

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from aether.settings import DEFAULT_DATABASE_APP_ROLE
from aether.storage.database import sqlalchemy_url


def alembic_config(database_url: str, app_role: str = DEFAULT_DATABASE_APP_ROLE) -> Config:
    """Alembic configuration pointing at the packaged migrations; no alembic.ini needed.

    ``app_role`` is the run-time role the migrations grant the platform's privileges to.
    """
    cfg = Config(stdout=io.StringIO())
    cfg.set_main_option("script_location", "aether.storage:migrations")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["app_role"] = app_role
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in aether.storage.migrations")
    return head


def upgrade(
    database_url: str, revision: str = "head", *, app_role: str = DEFAULT_DATABASE_APP_ROLE
) -> None:
    """Apply migrations up to ``revision`` as the role of ``database_url`` (the owner), granting
    ``app_role`` what the platform needs. Blocking: call from a thread inside async code."""
    command.upgrade(alembic_config(database_url, app_role), revision)


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = create_async_engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
            )
    finally:
        await engine.dispose()
