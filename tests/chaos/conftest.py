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
        await asyncio.to_thread(upgrade, urls.database_url)
        yield local, urls
    finally:
        await asyncio.to_thread(local.stop)
