"""The paper fill path on real servers: a market event from NATS fills a paper order in the
SimBroker, the fill is in ``fills`` once (a replay adds nothing) and its ``fill`` event is
published on ``orders.<account>.fill``; a restarted venue is rebuilt from the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import nats
import pytest
from nats.aio.msg import Msg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.audit.keys import AuditKey, audit_session_info
from aether.bus.publisher import BusPublisher
from aether.bus.subjects import market_subject, order_wildcard
from aether.domain.events import BookLevel, BookSnapshot, Tick
from aether.domain.instruments import Instrument
from aether.domain.orders import OrderStatus, OrderType, Side, TimeInForce
from aether.marketdata.wire import decode, encode_book, encode_trade
from aether.oms.fill_history import account_fills
from aether.oms.fills import record_trades
from aether.oms.new_order import NewOrder
from aether.oms.paper_fills import on_market_event
from aether.oms.paper_restore import resting_orders, volume_history
from aether.oms.paper_venue import PaperOrderVenue, PaperVenues
from aether.oms.portfolio_replay import replay_fills
from aether.oms.records import insert_order
from aether.oms.service import OrderService
from aether.ops.endpoints import ServerUrls
from aether.storage.database import create_engine, session_factory
from aether.storage.order_tables import FillRow, OrderRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from tests.conftest import Seed
from tests.support.polling import eventually

CASH = Decimal("100000")


@dataclass
class Paper:
    service: OrderService
    venues: PaperVenues
    venue: PaperOrderVenue
    sessions: async_sessionmaker[AsyncSession]
    account: AccountRow
    instruments: dict[str, Instrument]

    def new_venue(self, balances: dict[str, Decimal]) -> PaperOrderVenue:
        return PaperOrderVenue(self.account.id, self.instruments, balances)

    async def fills(self) -> list[FillRow]:
        async with self.sessions() as session:
            query = select(FillRow).where(FillRow.account_id == self.account.id)
            return list((await session.scalars(query.order_by(FillRow.id))).all())

    async def order(self, cl_ord_id: str) -> OrderRow:
        async with self.sessions() as session:
            row = await session.scalar(
                select(OrderRow).where(
                    OrderRow.account_id == self.account.id, OrderRow.cl_ord_id == cl_ord_id
                )
            )
        assert row is not None
        return row


@pytest.fixture
async def paper(
    aether_db_url: str, aether_audit_key: AuditKey, aether_seed: Seed, aether_session: AsyncSession
) -> AsyncIterator[Paper]:
    engine = create_engine(aether_db_url, pool_size=4)
    sessions = session_factory(engine, info=audit_session_info(aether_audit_key))
    account = await aether_session.get(AccountRow, aether_seed.alice_account)
    assert account is not None
    assert account.mode == "paper"
    instruments = {"XBTUSD": load_instrument_snapshot()["XBTUSD"]}
    venue = PaperOrderVenue(account.id, instruments, {"USD": CASH})
    venues = PaperVenues()
    venues.add(venue)
    try:
        yield Paper(OrderService(sessions, venues), venues, venue, sessions, account, instruments)
    finally:
        await engine.dispose()


def _book(bid: str, ask: str) -> BookSnapshot:
    levels = (BookLevel(Decimal(bid), Decimal("5")),), (BookLevel(Decimal(ask), Decimal("5")),)
    return BookSnapshot("XBTUSD", *levels, time.time_ns())


async def test_a_trade_from_nats_fills_once_and_publishes_the_fill(
    paper: Paper, aether_server_urls: ServerUrls
) -> None:
    account = str(paper.account.id)
    events: list[tuple[str, dict[str, object]]] = []
    handled: list[str] = []
    bus = BusPublisher(aether_server_urls.nats_url, name="test-paper-fills", retry_seconds=0.1)
    runner = asyncio.create_task(bus.run())
    client = await nats.connect(aether_server_urls.nats_url)
    try:

        async def on_order_event(msg: Msg) -> None:
            events.append((msg.subject, json.loads(msg.data)))

        async def on_market(msg: Msg) -> None:  # what the account runner does per event
            message = decode(msg.data)
            assert isinstance(message.event, Tick | BookSnapshot)
            await on_market_event(paper.sessions, paper.venue, message.event, bus)
            handled.append(message.kind)

        await client.subscribe(order_wildcard(account), cb=on_order_event)
        await client.subscribe("md.kraken.XBTUSD.>", cb=on_market)
        await client.flush()
        await eventually(lambda: bus.ready, within=10)
        paper.service.events = bus
        book = _book("59990", "60010")
        await client.publish(market_subject("XBTUSD", "book"), encode_book("XBTUSD", book, 0))
        await eventually(lambda: handled == ["book"], within=10)

        order = NewOrder("XBTUSD", Side.BUY, OrderType.MARKET, Decimal("0.01"), cl_ord_id="pf-1")
        row = await paper.service.submit(paper.account, order)
        assert row.status == OrderStatus.ACCEPTED
        print_ = Tick("XBTUSD", Decimal("60005.5"), Decimal("1"), time.time_ns(), 7, "buy")
        payload = encode_trade("XBTUSD", print_, time.time_ns())
        await client.publish(market_subject("XBTUSD", "trade"), payload)
        await eventually(lambda: any(s.endswith(".fill") for s, _ in events), within=10)
        await client.publish(market_subject("XBTUSD", "trade"), payload)  # replayed
        await eventually(lambda: handled == ["book", "trade", "trade"], within=10)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await bus.close()
        await client.close()

    (fill,) = await paper.fills()
    vid = f"paper-{paper.account.id.hex[:12]}-pf-1"
    assert (fill.venue, fill.venue_trade_id) == ("paper", f"{vid}-1")
    assert (fill.price, fill.quantity, fill.liquidity) == (
        Decimal("60005.5"),
        Decimal("0.01"),
        "taker",
    )
    assert fill.fee == (Decimal("600.055") * Decimal("0.0040")).quantize(Decimal("1e-8"))
    stored = await paper.order("pf-1")
    assert (stored.status, stored.venue_order_id) == (OrderStatus.FILLED, vid)
    fills = [body for subject, body in events if subject == f"orders.{account}.fill"]
    assert len(fills) == 1
    assert (fills[0]["trade_id"], fills[0]["status"]) == (f"{vid}-1", "filled")
    # The venue's own record of the trade, replayed into the fills table, adds nothing.
    async with paper.sessions() as session:
        again = await record_trades(session, paper.account.id, "paper", await paper.venue.trades(0))
        await session.commit()
    assert again == []
    assert len(await paper.fills()) == 1


async def test_a_fill_before_the_acceptance_is_recorded_is_not_lost(paper: Paper) -> None:
    await on_market_event(paper.sessions, paper.venue, _book("59990", "60010"), None)
    new = NewOrder("XBTUSD", Side.BUY, OrderType.MARKET, Decimal("0.01"), cl_ord_id="race")
    order, venue, price, mid = await paper.service.accept(paper.account, new)
    async with paper.sessions() as session:
        await insert_order(
            session, paper.account.id, order, venue="paper", decision_price=price, mid=mid
        )
        await session.commit()
    await venue.submit(order.request)  # the venue has it; its answer is not written yet
    await on_market_event(paper.sessions, paper.venue, _book("59995", "60000"), None)
    assert (await paper.order("race")).status == OrderStatus.FILLED
    row = await paper.service.send(paper.account.id, "race", order, venue)  # the answer lands
    assert row.status == OrderStatus.FILLED
    assert [f.price for f in await paper.fills()] == [Decimal("60000")]


async def test_a_restarted_venue_resumes_from_the_database(paper: Paper) -> None:
    await on_market_event(paper.sessions, paper.venue, _book("59990", "60010"), None)
    resting = NewOrder(
        "XBTUSD",
        Side.BUY,
        OrderType.LIMIT,
        Decimal("0.015"),
        price=Decimal("50000"),
        cl_ord_id="rs",
    )
    await paper.service.submit(paper.account, resting)
    ioc = NewOrder(
        "XBTUSD",
        Side.BUY,
        OrderType.LIMIT,
        Decimal("0.01"),
        price=Decimal("40000"),
        time_in_force=TimeInForce.IOC,
        cl_ord_id="ioc",
    )
    await paper.service.submit(paper.account, ioc)
    partial = Tick("XBTUSD", Decimal("49990"), Decimal("0.005"), time.time_ns())
    await on_market_event(paper.sessions, paper.venue, partial, None)
    assert (await paper.order("rs")).status == OrderStatus.PARTIALLY_FILLED
    ioc_row = await paper.order("ioc")  # the print did not reach it: the venue ended it
    assert (ioc_row.status, ioc_row.reason) == (OrderStatus.EXPIRED, "expired")

    # A restart: nothing of the old venue is kept but what the database holds.
    async with paper.sessions() as session:
        fills = await account_fills(session, paper.account.id)
        replay = replay_fills(paper.instruments, fills, CASH)
        balances = {b.asset: b.total for b in replay.portfolio.balances().values() if b.total}
        history = await volume_history(session, paper.account.id, paper.service.clock())
        orders = await resting_orders(session, paper.account.id)
    assert balances == {"USD": CASH - Decimal("250") - Decimal("0.625"), "XBT": Decimal("0.005")}
    assert [n for _, n in history] == [Decimal("250")]
    restarted = paper.new_venue(balances)
    paper.venues.add(restarted)
    assert restarted.restore(orders) == 1
    rest = Tick("XBTUSD", Decimal("49980"), Decimal("5"), time.time_ns())
    await on_market_event(paper.sessions, restarted, rest, None)
    stored = await paper.order("rs")
    assert (stored.status, stored.filled_quantity) == (OrderStatus.FILLED, Decimal("0.015"))
    vid = restarted.venue_order_id("rs")
    rs_fills = [f.venue_trade_id for f in await paper.fills() if f.venue_trade_id.startswith(vid)]
    assert sorted(rs_fills) == [f"{vid}-1", f"{vid}-2"]
    async with paper.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(FillRow).where(FillRow.account_id == paper.account.id)
        )
    assert count == 2
