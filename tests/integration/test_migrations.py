"""Migrations build the schema the code's table mappings describe, from an empty database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from aether.ops.endpoints import ServerUrls
from aether.storage import migrate
from aether.storage.database import sqlalchemy_url
from aether.storage.tables import Base
from tests.conftest import scratch_database


@pytest.fixture
async def empty_db(aether_server_urls: ServerUrls) -> AsyncIterator[str]:
    async with scratch_database(aether_server_urls.database_url) as url:
        yield url


async def test_upgrade_from_empty_matches_the_mappings(empty_db: str) -> None:
    assert await migrate.current_revision(empty_db) is None
    await asyncio.to_thread(migrate.upgrade, empty_db)
    assert await migrate.current_revision(empty_db) == migrate.head_revision()

    engine = create_async_engine(sqlalchemy_url(empty_db), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []

    # Upgrading again is a no-op.
    await asyncio.to_thread(migrate.upgrade, empty_db)
    assert await migrate.current_revision(empty_db) == migrate.head_revision()
