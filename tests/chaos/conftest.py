"""Shared by the chaos tests: a local stack of the test's own, whose servers it may kill."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from aether.storage.migrate import upgrade


@pytest.fixture
async def stack(aether_stack_dir: Path) -> AsyncIterator[tuple[LocalStack, ServerUrls]]:
    """A stack of this test's own (PostgreSQL and NATS), migrated; its own URLs."""
    local = LocalStack(aether_stack_dir, durable=False)
    await asyncio.to_thread(local.start, ["postgres", "nats"])
    try:
        urls = local.urls()
        await asyncio.to_thread(upgrade, local.postgres().owner_url)
        yield local, urls
    finally:
        await asyncio.to_thread(local.stop)


@pytest.fixture
def market_stack(
    stack: tuple[LocalStack, ServerUrls], aether_server_urls: ServerUrls
) -> tuple[LocalStack, ServerUrls]:
    """The test's own stack (PostgreSQL and NATS, which the test kills or freezes) with the
    session's Redis, for an API serving `/ws/market`."""
    local, own = stack
    return local, ServerUrls(own.database_url, own.nats_url, aether_server_urls.redis_url)
