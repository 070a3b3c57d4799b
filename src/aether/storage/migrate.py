"""Schema migrations (Alembic) driven from Python: ``aether db upgrade`` and ``db current``."""

from __future__ import annotations

import io

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from aether.storage.database import sqlalchemy_url


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations; no alembic.ini needed."""
    cfg = Config(stdout=io.StringIO())
    cfg.set_main_option("script_location", "aether.storage:migrations")
    cfg.attributes["database_url"] = database_url
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in aether.storage.migrations")
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``. Blocking: call from a thread inside async code."""
    command.upgrade(alembic_config(database_url), revision)


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
