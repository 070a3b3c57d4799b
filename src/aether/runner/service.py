"""The runner of one process, put together: its bus connection, order service, venues,
market inbox and lease loop; ``run`` until cancelled.

Built from explicit parts (the platform reads them from ``Settings``): the database
sessions, the NATS URL, Kraken's REST URL and the nonce directory for live accounts, and
the reason live trading is refused with these settings (None: allowed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.bus.publisher import BusPublisher
from aether.domain.events import BookSnapshot, Tick
from aether.oms.paper_fills import on_market_event
from aether.oms.paper_venue import PaperOrderVenue, PaperVenues
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.oms.service import OrderService
from aether.oms.venue_choice import AccountVenues, vault_credentials
from aether.ops.tasks import stop_task
from aether.runner.account_runner import PaperFills
from aether.runner.account_start import RunnerParts
from aether.runner.housekeeping import keep_house
from aether.runner.market_inbox import MarketInbox
from aether.runner.order_events import RoutingSink
from aether.runner.process import RunnerProcess
from aether.runner.venues import RunnerVenues
from aether.storage.tables import AccountRow

__all__ = ["RunnerService"]


class RunnerService:
    """Everything one runner process needs; ``run`` it, cancel it to stop."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        nats_url: str,
        kraken_url: str,
        nonce_dir: Path,
        live_refusal: str | None,
        metrics: ReconciliationMetrics,
        holder: str | None = None,
    ) -> None:
        self.inbox = MarketInbox()
        self.bus = BusPublisher(nats_url, name="aether-runner", on_connect=self._bus_connected)
        self.paper_venues = PaperVenues()
        self.live_venues = AccountVenues(kraken_url, nonce_dir, sessions, vault_credentials)
        self.service = OrderService(sessions, RunnerVenues(self.paper_venues, self.live_venues))
        parts = RunnerParts(
            service=self.service,
            paper_venues=self.paper_venues,
            metrics=metrics,
            live_refusal=live_refusal,
            publish=self.bus.publish,
            paper_fills=self._paper_fills,
        )
        self.process = RunnerProcess(sessions, parts, self.inbox)
        if holder is not None:
            self.process.holder = holder
        self.service.fence = self.process.fence
        self.service.events = RoutingSink(self.bus, self.process.route)

    async def _bus_connected(self, client: Client) -> None:
        await self.inbox.connect(client)

    def _paper_fills(self, account: AccountRow, venue: PaperOrderVenue) -> PaperFills:
        service = self.service

        async def fill(event: Tick | BookSnapshot) -> None:
            await on_market_event(
                service.sessions, venue, event, service.events, fence=service.fence
            )

        return fill

    async def run(self) -> None:
        """Connect, then run the lease loop until cancelled; everything is let go after."""
        bus = asyncio.create_task(self.bus.run(), name="runner-bus")
        housekeeping = asyncio.create_task(keep_house(self.process), name="runner-housekeeping")
        try:
            await self.process.run()
        finally:
            await stop_task(housekeeping)
            await self.inbox.close()
            await stop_task(bus)
            await self.bus.close()
            await self.live_venues.aclose()
