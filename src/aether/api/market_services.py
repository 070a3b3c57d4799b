"""The market-data services an API process runs when ``market_data_enabled`` is on.

Start order: the bus connection for WebSocket fan-out (in the background, retrying), the
instrument registry (first load with backoff, then the refresh schedule), and, once the
registry has loaded, the subscription seed and the ingest feed. The API serves throughout;
``/readyz`` says what is not ready yet. Stop order is the reverse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.api.market_fanout import MarketFanout
from aether.bus.subjects import SUBSCRIPTIONS_CHANGED
from aether.marketdata import subscriptions
from aether.marketdata.assembly import build_instrument_registry, build_market_feed
from aether.marketdata.feed.service import MarketFeed
from aether.marketdata.registry import InstrumentRegistry
from aether.ops.endpoints import ServerUrls
from aether.ops.tasks import stop_task
from aether.settings import Settings

log = structlog.get_logger("aether.api.market")

SYSTEM_ACTOR = "system:marketdata"


@dataclass(slots=True)
class MarketServices:
    settings: Settings
    urls: ServerUrls
    sessions: async_sessionmaker[AsyncSession]
    metrics_registry: CollectorRegistry
    registry: InstrumentRegistry
    fanout: MarketFanout
    feed: MarketFeed | None = None
    _startup: asyncio.Task[None] | None = field(default=None, repr=False)

    def ingest_readiness(self) -> tuple[bool, str]:
        """The feed's own readiness, or why it has not started."""
        if self.feed is not None:
            return self.feed.readiness()
        return False, "ingest not started: waiting for the instrument registry's first load"

    async def announce(self, symbol: str, ws_symbol: str, kinds: list[str]) -> bool:
        """Tell the ingest that one pair's subscription changed (after the commit)."""
        payload = subscriptions.change_message(symbol, ws_symbol, kinds)
        return await self.fanout.publish(SUBSCRIPTIONS_CHANGED, payload)

    async def _seed(self) -> None:
        async with self.sessions() as session:
            seeded = await subscriptions.seed(
                session, self.settings.market_seed_symbols, actor=SYSTEM_ACTOR
            )
            await session.commit()
        for sub in seeded:
            await self.announce(sub.symbol, sub.ws_symbol, list(sub.kinds))
        if seeded:
            log.info("market subscriptions seeded", symbols=[s.symbol for s in seeded])

    async def _after_first_load(self) -> None:
        await self.registry.wait_loaded()
        try:
            await self._seed()
        except Exception as exc:  # seeding is a convenience; the API still serves without it
            log.error("seeding market subscriptions failed", error=type(exc).__name__)
        # Starting only launches the feed's tasks; each part retries on its own and
        # readiness says which is not up yet.
        self.feed = build_market_feed(self.settings, self.urls, self.metrics_registry)
        await self.feed.start()

    async def start(self) -> None:
        self.fanout.connect(self.urls.nats_url)
        await self.fanout.wait_connected(timeout=2.0)
        self.registry.start()
        self._startup = asyncio.create_task(self._after_first_load(), name="market-startup")

    async def stop(self) -> None:
        await stop_task(self._startup)
        if self.feed is not None:
            await self.feed.stop()
            self.feed = None
        await self.registry.stop()
        await self.fanout.close()


def build_market_services(
    settings: Settings,
    urls: ServerUrls,
    sessions: async_sessionmaker[AsyncSession],
    metrics_registry: CollectorRegistry,
) -> MarketServices:
    """The services, not yet started."""
    return MarketServices(
        settings=settings,
        urls=urls,
        sessions=sessions,
        metrics_registry=metrics_registry,
        registry=build_instrument_registry(settings, sessions),
        fanout=MarketFanout(
            queue_size=settings.ws_market_queue_size,
            max_connections_per_key=settings.ws_market_max_connections_per_key,
        ),
    )
