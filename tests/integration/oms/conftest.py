"""An order service over this test's database, trading on a real emulator account."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.audit.keys import AuditKey, audit_session_info
from aether.oms.errors import NoVenue
from aether.oms.kraken_venue import KrakenOrderVenue
from aether.oms.service import OrderService
from aether.oms.venue_port import OrderVenue
from aether.storage.database import create_engine, session_factory
from aether.storage.tables import AccountRow
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator, Kraken


def _micros() -> int:
    return time.time_ns() // 1000


@dataclass
class Venues:
    """Each account's venue, by account id; accounts not listed have none."""

    by_account: dict[uuid.UUID, OrderVenue] = field(default_factory=dict)

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        venue = self.by_account.get(account.id)
        if venue is None:
            raise NoVenue("no venue for this account yet", field="account_id")
        return venue


@dataclass
class Desk:
    service: OrderService
    venues: Venues
    sessions: async_sessionmaker[AsyncSession]
    emulator: Emulator
    kraken: Kraken  # the same emulator account, signed independently
    account: AccountRow
    tmp: Path

    def venue(self, transport: httpx.AsyncBaseTransport | None = None) -> KrakenOrderVenue:
        """A venue on the emulator account, optionally through ``transport``."""
        client = httpx.AsyncClient(transport=transport, timeout=10) if transport else None
        rest = KrakenRest(
            self.emulator.url,
            credentials=Credentials(self.kraken.key, self.kraken.secret),
            # Microseconds, as the independent signer of the same key counts: one sequence.
            nonces=NonceStore(self.tmp / f"nonce-{uuid.uuid4().hex}", clock=_micros),
            client=client,
            backoff=0.01,
        )
        return KrakenOrderVenue(rest)

    def orders_at_venue(self, cl_ord_id: str) -> int:
        """How many orders the emulator holds with ``cl_ord_id``, open or closed."""
        opened = self.kraken.ok("OpenOrders", cl_ord_id=cl_ord_id)["open"]
        closed = self.kraken.ok("ClosedOrders", cl_ord_id=cl_ord_id)["closed"]
        return len(opened) + len(closed)

    def far_bid(self, symbol: str = "XBTUSD") -> Decimal:
        """Half the last price, on XBTUSD's 0.1 tick: a buy there rests."""
        ticker = next(iter(self.emulator.public("Ticker", pair=symbol)["result"].values()))
        return (Decimal(ticker["c"][0]) / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


@pytest.fixture
async def desk(
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_seed: Seed,
    aether_session: AsyncSession,
    emulator: Emulator,
    tmp_path: Path,
) -> AsyncIterator[Desk]:
    engine = create_engine(aether_db_url, pool_size=4)
    sessions = session_factory(engine, info=audit_session_info(aether_audit_key))
    kraken = emulator.account(USD="100000", XBT="1")
    account = await aether_session.get(AccountRow, aether_seed.alice_account)
    assert account is not None
    venues = Venues()
    desk = Desk(
        OrderService(sessions, venues), venues, sessions, emulator, kraken, account, tmp_path
    )
    venue = desk.venue()
    venues.by_account[account.id] = venue
    try:
        yield desk
    finally:
        await venue.aclose()
        await engine.dispose()
