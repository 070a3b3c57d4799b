"""A fresh, migrated database on a benchmark's own PostgreSQL (imported by the benchmarks
that write orders; run them as scripts, ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from aether.settings import DEFAULT_DATABASE_APP_ROLE
from aether.storage.migrate import upgrade


async def migrated_database(admin_url: str) -> str:
    """Create a database (and the run-time role, once), migrate it; its owner's URL."""
    name = f"aether_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        role = DEFAULT_DATABASE_APP_ROLE
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await conn.execute(f'CREATE ROLE "{role}"')
    finally:
        await conn.close()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    return url
