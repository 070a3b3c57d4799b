"""Account leases over this test's own database: sessions as the run-time role, accounts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.accounts import service as accounts
from aether.audit.keys import AuditKey, audit_session_info
from aether.domain.accounts import AccountKind
from aether.oms import leases
from aether.oms.leases import Lease
from aether.storage.database import create_engine, session_factory

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(aether_db_url: str, aether_audit_key: AuditKey) -> AsyncIterator[Sessions]:
    """Sessions as the platform's run-time role; enough connections for racing tasks."""
    engine = create_engine(aether_db_url, pool_size=8)
    try:
        yield session_factory(engine, info=audit_session_info(aether_audit_key))
    finally:
        await engine.dispose()


async def make_accounts(sessions: Sessions, count: int) -> list[uuid.UUID]:
    """``count`` new active accounts, in creation order."""
    ids = []
    async with sessions() as session:
        for _ in range(count):
            row = await accounts.create(
                session, name=f"lease-{uuid.uuid4().hex[:10]}", kind=AccountKind.OTHER, actor="t"
            )
            ids.append(row.id)
        await session.commit()
    return ids


async def acquire(
    sessions: Sessions, holder: str, account_id: uuid.UUID, ttl: timedelta
) -> Lease | None:
    async with sessions() as session:
        lease = await leases.acquire(session, holder, account_id, ttl)
        await session.commit()
    return lease


async def claim(sessions: Sessions, holder: str, ttl: timedelta, limit: int = 1000) -> list[Lease]:
    async with sessions() as session:
        taken = await leases.claim_free_accounts(session, holder, ttl, limit)
        await session.commit()
    return taken


async def renew(sessions: Sessions, lease: Lease, ttl: timedelta) -> Lease:
    async with sessions() as session:
        renewed = await leases.renew(session, lease, ttl)
        await session.commit()
    return renewed


async def database_now(sessions: Sessions) -> datetime:
    async with sessions() as session:
        now = await session.scalar(text("SELECT clock_timestamp()"))
    assert isinstance(now, datetime)
    return now


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


async def wait_until_expired(sessions: Sessions, lease: Lease) -> None:
    """Wait until the database's clock is past ``lease.expires_at``."""

    async def expired() -> bool:
        return await database_now(sessions) > lease.expires_at

    await wait_for(expired, f"the lease of {lease.account_id} to expire")
