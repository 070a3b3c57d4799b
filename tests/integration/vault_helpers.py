"""Shared by the credential-vault tests: settings whose Kraken is an emulator, a session that
may seal and open credentials, and what the database holds for an account."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.keys import AuditKey, audit_session_info
from aether.security.kek import KekRing, vault_session_info
from aether.settings import Settings
from aether.storage.database import create_engine, session_factory


def vault_settings(tmp_path: Path, kraken_url: str, **overrides: Any) -> Settings:
    """Test settings, market data off, Kraken's REST API at ``kraken_url``."""
    values: dict[str, Any] = {
        "profile": "test",
        "data_dir": tmp_path / "data",
        "market_data_enabled": False,
        "kraken_rest_url": kraken_url,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def vault_session(url: str, key: AuditKey, ring: KekRing) -> AsyncIterator[AsyncSession]:
    """A session as ``url``'s role that audits and opens credentials under ``ring``."""
    engine = create_engine(url, pool_size=1)
    try:
        info = {**audit_session_info(key), **vault_session_info(ring)}
        async with session_factory(engine, info=info)() as session:
            yield session
    finally:
        await engine.dispose()


async def stored_row(pg: asyncpg.Connection, account_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await pg.fetchrow(
        "SELECT * FROM kraken_credentials WHERE account_id = $1", account_id
    )
    return row


async def audit_actions(pg: asyncpg.Connection, prefix: str = "credential.") -> list[str]:
    rows = await pg.fetch(
        "SELECT action FROM audit_log WHERE action LIKE $1 ORDER BY seq", prefix + "%"
    )
    return [r["action"] for r in rows]
