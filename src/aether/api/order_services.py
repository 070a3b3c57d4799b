"""The order service of an API process: its venues (live accounts with vault credentials,
on the configured Kraken REST URL) and its publishing bus connection, started and stopped
with the app."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.bus.publisher import BusPublisher
from aether.oms.service import OrderService
from aether.oms.venue_choice import AccountVenues, vault_credentials
from aether.ops.endpoints import ServerUrls
from aether.ops.tasks import stop_task
from aether.settings import Settings


class OrderServices:
    """The order service with what it needs; ``start`` and ``stop`` follow the app."""

    def __init__(
        self, settings: Settings, urls: ServerUrls, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.bus = BusPublisher(urls.nats_url, name="aether-api-orders")
        self.venues = AccountVenues(
            settings.kraken_rest_base, settings.data_dir / "nonces", sessions, vault_credentials
        )
        self.service = OrderService(sessions, self.venues, self.bus)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.bus.run(), name="order-events-bus")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)
        await self.bus.close()
        await self.venues.aclose()
