"""Least privilege: the platform's run-time role cannot switch the audit log's protections
off, rewrite it or drop it, and the production profile refuses a more privileged role."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.ops.endpoints import ServerUrls
from aether.platform.errors import PlatformError
from aether.platform.migrations import prepare_database
from aether.settings import Settings
from aether.storage.roles import check_runtime_role
from tests.conftest import DatabaseRoles, with_database

#: Everything the issue's attacker did as the platform's role, and a few ways around it.
REFUSED = [
    "SET session_replication_role = replica",
    "SET LOCAL session_replication_role = replica",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "UPDATE audit_log SET actor = 'someone else' WHERE seq = 2",
    "DELETE FROM audit_log WHERE seq = 3",
    "DROP FUNCTION audit_log_refuse_change() CASCADE",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "CREATE TABLE shadow (n int)",
    "CREATE ROLE intruder SUPERUSER",
    "ALTER ROLE CURRENT_USER SUPERUSER",
]


async def _three_entries(session: AsyncSession) -> None:
    for i in range(3):
        await audit.append(session, actor="system:test", action="test.event", details={"i": i})
    await session.commit()


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_runtime_role_is_refused(
    aether_session: AsyncSession, aether_pg: asyncpg.Connection, statement: str
) -> None:
    await _three_entries(aether_session)
    async with aether_pg.transaction():
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await aether_pg.execute(statement)
    result = await audit.verify(aether_session)
    assert (result.ok, result.rows) == (True, 3)


async def test_the_runtime_role_cannot_become_the_owner(
    aether_pg: asyncpg.Connection, aether_db_roles: DatabaseRoles
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await aether_pg.execute(f'SET ROLE "{aether_db_roles.owner}"')


async def test_start_up_check_passes_the_runtime_role_and_names_what_is_wrong_with_others(
    aether_db_url: str, aether_owner_db_url: str, aether_server_urls: ServerUrls
) -> None:
    assert await check_runtime_role(aether_db_url) == []
    owner = await check_runtime_role(aether_owner_db_url)
    assert any("owns (or may act as the owner of)" in p and "audit_log" in p for p in owner)
    assert any("may create objects in the schema" in p for p in owner)
    database = aether_db_url.rsplit("/", 1)[1]
    admin = await check_runtime_role(with_database(aether_server_urls.database_url, database))
    assert any("is a superuser" in p for p in admin)
    assert any("can create roles" in p for p in admin)
    assert any("bypasses row-level security" in p for p in admin)


def _production(owner_url: str, roles: DatabaseRoles) -> Settings:
    # Only the database part matters here; prepare_database checks nothing else.
    return Settings(  # type: ignore[arg-type]
        profile="production", database_owner_url=owner_url, database_app_role=roles.app
    )


@pytest.mark.parametrize("runtime", ["owner", "superuser"])
async def test_production_refuses_to_run_as_the_owner_or_a_superuser(
    aether_db_url: str,
    aether_owner_db_url: str,
    aether_server_urls: ServerUrls,
    aether_db_roles: DatabaseRoles,
    runtime: str,
) -> None:
    database = aether_db_url.rsplit("/", 1)[1]
    url = (
        aether_owner_db_url
        if runtime == "owner"
        else with_database(aether_server_urls.database_url, database)
    )
    urls = ServerUrls(url, aether_server_urls.nats_url, aether_server_urls.redis_url)
    settings = _production(aether_owner_db_url, aether_db_roles)
    with pytest.raises(PlatformError, match="refusing to start the production profile") as caught:
        await asyncio.to_thread(prepare_database, settings, None, urls, lambda _: None)
    assert ("owns" if runtime == "owner" else "is a superuser") in str(caught.value)

    fit = ServerUrls(aether_db_url, aether_server_urls.nats_url, aether_server_urls.redis_url)
    await asyncio.to_thread(prepare_database, settings, None, fit, lambda _: None)
