"""Migrations build the schema the code's table mappings describe, from an empty database, as
the owner role, and grant the run-time role exactly what the platform needs per table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from aether.ops.endpoints import ServerUrls
from aether.storage import migrate
from aether.storage.database import sqlalchemy_url
from aether.storage.schema import Base
from tests.conftest import DatabaseRoles, scratch_database

#: What the run-time role may do with each table. A migration that adds a table grants the
#: platform what it needs (aether.storage.migrations.privileges.grant) and lists it here.
EXPECTED_PRIVILEGES: dict[str, set[str]] = {
    "alembic_version": {"SELECT"},
    "accounts": {"SELECT", "INSERT", "UPDATE"},
    "users": {"SELECT", "INSERT", "UPDATE"},
    "user_account_grants": {"SELECT", "INSERT", "UPDATE"},
    "api_keys": {"SELECT", "INSERT", "UPDATE"},
    "audit_log": {"SELECT", "INSERT"},
    "ops_heartbeat": {"SELECT", "INSERT", "UPDATE"},
    "instruments": {"SELECT", "INSERT", "UPDATE"},
    "instrument_refreshes": {"SELECT", "INSERT"},
    "market_subscriptions": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "market_trades": {"SELECT", "INSERT"},
    "candles": {"SELECT", "INSERT", "UPDATE"},
    "reference_prices": {"SELECT", "INSERT"},
    "market_gaps": {"SELECT", "INSERT", "UPDATE"},
    "import_progress": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "kraken_credentials": {"SELECT", "INSERT", "UPDATE"},
    "orders": {"SELECT", "INSERT", "UPDATE"},
    "order_events": {"SELECT", "INSERT"},
    "fills": {"SELECT", "INSERT"},
    "order_outbox": {"SELECT", "INSERT", "UPDATE"},
    "account_leases": {"SELECT", "INSERT", "UPDATE"},
    "account_balances": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "mode_switch_tokens": {"SELECT", "INSERT", "UPDATE"},
}


def _revision_before(revision: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://unused/unused"))
    before = script.get_revision(revision).down_revision
    assert isinstance(before, str)
    return before


#: The newest revision before 0004 keyed the audit chain and split the database roles.
BEFORE_KEYING = _revision_before("0004")


@pytest.fixture
async def empty_db(
    aether_server_urls: ServerUrls, aether_db_roles: DatabaseRoles
) -> AsyncIterator[str]:
    """An empty database owned by the owner role; its URL as that owner."""
    server = aether_server_urls.database_url
    async with scratch_database(server, owner=aether_db_roles.owner) as url:
        name = url.rsplit("/", 1)[1]
        yield aether_db_roles.owner_url(server, name)


async def test_upgrade_from_empty_matches_the_mappings(
    empty_db: str, aether_db_roles: DatabaseRoles
) -> None:
    assert await migrate.current_revision(empty_db) is None
    await asyncio.to_thread(migrate.upgrade, empty_db, app_role=aether_db_roles.app)
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
    await asyncio.to_thread(migrate.upgrade, empty_db, app_role=aether_db_roles.app)
    assert await migrate.current_revision(empty_db) == migrate.head_revision()


async def test_every_table_grants_the_runtime_role_exactly_what_it_needs(
    aether_owner_db_url: str, aether_db_roles: DatabaseRoles
) -> None:
    conn = await asyncpg.connect(aether_owner_db_url)
    try:
        rows = await conn.fetch(
            "SELECT t.tablename, p.privilege FROM pg_tables t "
            "CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE',"
            "'REFERENCES','TRIGGER']) AS p(privilege) "
            "WHERE t.schemaname = 'public' AND has_table_privilege($1, "
            "format('public.%I', t.tablename), p.privilege)",
            aether_db_roles.app,
        )
        tables = {
            r[0]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        owners = {
            r[0]
            for r in await conn.fetch(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        function_execute = await conn.fetchval(
            "SELECT has_function_privilege($1, 'audit_log_refuse_change()', 'EXECUTE')",
            aether_db_roles.app,
        )
    finally:
        await conn.close()
    granted: dict[str, set[str]] = {table: set() for table in tables}
    for table, privilege in rows:
        granted[table].add(privilege)
    unlisted = sorted(set(granted) - set(EXPECTED_PRIVILEGES))
    assert not unlisted, (
        f"tables {unlisted} are not in EXPECTED_PRIVILEGES: the migration that adds a table "
        "must grant the run-time role what the platform does with it, and list it here"
    )
    assert granted == EXPECTED_PRIVILEGES
    assert owners == {aether_db_roles.owner}
    assert function_execute is False


async def test_migrations_need_the_runtime_role_to_exist_and_differ_from_the_owner(
    empty_db: str, aether_db_roles: DatabaseRoles
) -> None:
    with pytest.raises(RuntimeError, match=r"'aether_nobody'.*does not exist.*Database roles"):
        await asyncio.to_thread(migrate.upgrade, empty_db, app_role="aether_nobody")
    with pytest.raises(RuntimeError, match=r"migrations run as .* the run-time role"):
        await asyncio.to_thread(migrate.upgrade, empty_db, app_role=aether_db_roles.owner)
    assert await migrate.current_revision(empty_db) is None  # one transaction: nothing applied


async def test_an_unkeyed_chain_is_refused_rather_than_silently_mixed(
    empty_db: str, aether_db_roles: DatabaseRoles
) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db, BEFORE_KEYING, app_role=aether_db_roles.app)
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute(
            "INSERT INTO audit_log (seq, ts, actor, action, details, prev_hash, hash) "
            "VALUES (1, now(), 'system:old', 'x', '{}', repeat('0', 64), repeat('a', 64))"
        )
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match="audit_log holds 1 rows hashed without a key"):
        await asyncio.to_thread(migrate.upgrade, empty_db, app_role=aether_db_roles.app)
    assert await migrate.current_revision(empty_db) == BEFORE_KEYING
