"""KrakenVenue (the live ``Venue`` over Kraken's authenticated WebSocket v2) against the
emulator: acceptance, cancels, fills and balances, Kraken's refusals, the dead man's switch
and a dropped connection that neither stops the venue nor repeats a fill."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from aether.domain.bars import Bar
from aether.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    Tick,
    VenueEvent,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderTags,
    OrderType,
    Side,
    TimeInForce,
)
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.engine.strategy import Strategy, StrategyContext
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest
from aether.venues.kraken.symbols import altname_for_ws
from aether.venues.kraken.venue import KrakenVenue, rfc3339_ns
from aether.venues.kraken.ws import KrakenMarketStream
from aether.venues.kraken.ws_private import KrakenPrivateSession
from aether.venues.kraken.ws_receive import StreamGap
from tests.integration.emulator.conftest import Emulator
from tests.support.polling import eventually

XBTUSD = load_instrument_snapshot()["XBTUSD"]
TICK = Decimal("0.1")


@asynccontextmanager
async def live(
    emulator: Emulator, tmp_path: Path, reconnect_delay: float = 0.2, **balances: str
) -> AsyncIterator[tuple[KrakenVenue, KrakenRest]]:
    """A started venue on a fresh funded account, and a REST client on the same key."""
    response = httpx.post(f"{emulator.url}/emulator/accounts", json={"balances": balances})
    creds = response.json()
    rest = KrakenRest(
        emulator.url,
        credentials=Credentials(creds["api_key"], creds["api_secret"]),
        nonces=NonceStore(tmp_path / f"nonce-{creds['api_key'][:8]}"),
    )
    session = KrakenPrivateSession(emulator.ws_url, rest, reconnect_delay=reconnect_delay)
    venue = KrakenVenue(session)
    await venue.start()
    try:
        yield venue, rest
    finally:
        await venue.stop()
        await rest.aclose()


async def until(
    venue: KrakenVenue,
    events: list[VenueEvent],
    done: Callable[[list[VenueEvent]], bool],
    timeout: float = 15.0,
) -> list[VenueEvent]:
    """Poll into ``events`` until ``done(events)``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done(events):
        assert time.monotonic() < deadline, f"timed out; events so far: {events}"
        await asyncio.sleep(0.05)
        events.extend(venue.poll())
    return events


async def pump(venue: KrakenVenue, events: list[VenueEvent], seconds: float) -> None:
    """Poll like an engine would, for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        events.extend(venue.poll())


def of(kind: type[Any], events: list[VenueEvent], cl_ord_id: str) -> list[Any]:
    return [e for e in events if isinstance(e, kind) and e.cl_ord_id == cl_ord_id]


async def best(rest: KrakenRest) -> tuple[Decimal, Decimal]:
    (ticker,) = (await rest.public("Ticker", {"pair": "XBTUSD"})).values()
    return Decimal(ticker["b"][0]), Decimal(ticker["a"][0])


async def far_bid(rest: KrakenRest) -> Decimal:
    bid, _ = await best(rest)
    return (bid / 2).quantize(TICK)


def limit(cl_ord_id: str, side: Side, quantity: str, price: Decimal) -> OrderRequest:
    order = Order.create(
        XBTUSD, cl_ord_id=cl_ord_id, side=side, type=OrderType.LIMIT, quantity=quantity, price=price
    )
    return order.request


def market(cl_ord_id: str, side: Side, quantity: str) -> OrderRequest:
    order = Order.create(
        XBTUSD, cl_ord_id=cl_ord_id, side=side, type=OrderType.MARKET, quantity=quantity
    )
    return order.request


def test_rfc3339_to_epoch_ns() -> None:
    assert rfc3339_ns("2023-09-25T09:04:31.742599Z") == 1_695_632_671_742_599_000
    assert rfc3339_ns("1970-01-01T00:00:01Z") == 1_000_000_000


def test_a_resting_limit_is_accepted_then_cancelled(emulator: Emulator, tmp_path: Path) -> None:
    async def scenario() -> list[VenueEvent]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            venue.submit(limit("kv-rest-1", Side.BUY, "0.01", await far_bid(rest)), 0)
            await until(venue, events, lambda ev: bool(of(OrderAccepted, ev, "kv-rest-1")))
            opened = await rest.private("OpenOrders", {"cl_ord_id": "kv-rest-1"})
            assert len(opened["open"]) == 1
            venue.cancel("kv-rest-1", 0)
            await until(venue, events, lambda ev: bool(of(OrderCancelled, ev, "kv-rest-1")))
            opened = await rest.private("OpenOrders", {"cl_ord_id": "kv-rest-1"})
            assert opened["open"] == {}
            return events

    events = asyncio.run(scenario())
    assert [type(e) for e in events] == [OrderAccepted, OrderCancelled]
    cancelled = events[1]
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "User requested"
    assert abs(cancelled.ts_ns - time.time_ns()) < 60 * 10**9


def test_a_marketable_order_fills_and_balances_agree(emulator: Emulator, tmp_path: Path) -> None:
    async def scenario() -> tuple[list[VenueEvent], dict[str, Any], dict[str, Any], Any]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            venue.submit(market("kv-buy-1", Side.BUY, "0.01"), 0)

            def filled(ev: list[VenueEvent]) -> bool:
                got = sum(e.fill.quantity for e in of(OrderFilled, ev, "kv-buy-1"))
                return bool(got == Decimal("0.01"))

            await until(venue, events, filled)
            trades = await rest.private("TradesHistory")
            balance = await rest.private("Balance")
            xbt = Decimal(balance["XXBT"])
            await eventually(lambda: venue.balances.get("BTC") == xbt, within=15)
            return events, trades, balance, venue.balances

    events, trades, balance, ws_balances = asyncio.run(scenario())
    assert isinstance(events[0], OrderAccepted)
    fills = [e.fill for e in events if isinstance(e, OrderFilled)]
    assert fills
    assert all(isinstance(e, OrderAccepted | OrderFilled) for e in events)
    rows = list(trades["trades"].values())
    assert len(rows) == len(fills)
    assert sorted(Decimal(r["vol"]) for r in rows) == sorted(f.quantity for f in fills)
    assert sorted(Decimal(r["price"]) for r in rows) == sorted(f.price for f in fills)
    assert sum(Decimal(r["fee"]) for r in rows) == sum(f.fee for f in fills)
    assert set(trades["trades"]) == {f.trade_id for f in fills}  # Kraken's trade ids
    for fill in fills:
        assert fill.symbol == "XBTUSD"
        assert fill.side is Side.BUY
        assert fill.fee_currency == "USD"
        assert fill.liquidity is Liquidity.TAKER
        assert fill.fee > 0
    spent = sum(f.quantity * f.price + f.fee for f in fills)
    # Balances are shown with the asset's display decimals (4 for USD), as Kraken does.
    assert abs(Decimal(balance["ZUSD"]) - (Decimal(100000) - spent)) < Decimal("0.0001")
    assert Decimal(balance["XXBT"]) == Decimal("0.01")
    assert ws_balances["USD"] == Decimal(balance["ZUSD"])
    assert ws_balances["BTC"] == Decimal(balance["XXBT"])


def test_kraken_refusals_become_rejections(emulator: Emulator, tmp_path: Path) -> None:
    async def scenario() -> list[VenueEvent]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            price = await far_bid(rest)
            tiny = OrderRequest(  # below ordermin: the domain would refuse it before Kraken
                "kv-tiny", "XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.00001"), price,
                None, None, TimeInForce.GTC, None, False, False, OrderTags(),
            )  # fmt: skip
            venue.submit(tiny, 0)
            await until(venue, events, lambda ev: bool(of(OrderRejected, ev, "kv-tiny")))
            venue.submit(limit("kv-dup", Side.BUY, "0.01", price), 0)
            await until(venue, events, lambda ev: bool(of(OrderAccepted, ev, "kv-dup")))
            venue.submit(limit("kv-dup", Side.BUY, "0.02", price), 0)
            await until(venue, events, lambda ev: bool(of(OrderRejected, ev, "kv-dup")))
            venue.cancel("kv-dup", 0)  # the first order is still working
            await until(venue, events, lambda ev: bool(of(OrderCancelled, ev, "kv-dup")))
            return events

    events = asyncio.run(scenario())
    (tiny,) = of(OrderRejected, events, "kv-tiny")
    assert tiny.reason == "EOrder:Order minimum not met"
    (dup,) = of(OrderRejected, events, "kv-dup")
    assert dup.reason.startswith("EOrder:Duplicate")
    assert len(of(OrderAccepted, events, "kv-dup")) == 1


def test_the_dead_mans_switch_cancels_once_refreshing_stops(
    emulator: Emulator, tmp_path: Path
) -> None:
    async def scenario() -> tuple[list[VenueEvent], float]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            venue.start_dead_man(2, every_s=0.5)
            venue.submit(limit("kv-dms", Side.BUY, "0.01", await far_bid(rest)), 0)
            await until(venue, events, lambda ev: bool(of(OrderAccepted, ev, "kv-dms")))
            # Refreshed while the engine polls: well past the timeout, still open.
            await pump(venue, events, 4.0)
            assert not of(OrderCancelled, events, "kv-dms")
            await venue.stop_dead_man(disarm=False)
            stopped = time.monotonic()
            await until(venue, events, lambda ev: bool(of(OrderCancelled, ev, "kv-dms")), timeout=6)
            return events, time.monotonic() - stopped

    events, waited = asyncio.run(scenario())
    (cancelled,) = of(OrderCancelled, events, "kv-dms")
    assert cancelled.reason == "Cancel all orders after timeout"
    assert 1.0 < waited < 4.0


def test_a_dropped_connection_keeps_trading_and_repeats_no_fill(
    emulator: Emulator, tmp_path: Path
) -> None:
    async def scenario() -> tuple[list[VenueEvent], KrakenVenue, dict[str, Any]]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            venue.submit(market("kv-rc-1", Side.BUY, "0.01"), 0)
            venue.submit(limit("kv-rc-open", Side.BUY, "0.01", await far_bid(rest)), 0)
            await until(
                venue,
                events,
                lambda ev: (
                    bool(of(OrderFilled, ev, "kv-rc-1"))
                    and bool(of(OrderAccepted, ev, "kv-rc-open"))
                ),
            )
            before = venue.session.connections
            response = httpx.post(f"{emulator.url}/emulator/faults", json={"ws_drop": True})
            assert response.status_code == 200, response.text
            # Reconnected: a new connection, ready again.
            await eventually(
                lambda: venue.session.connections != before and venue.session.ready.is_set(),
                within=15,
            )
            await pump(venue, events, 1.0)  # the snapshot after the reconnect comes in
            venue.submit(market("kv-rc-2", Side.BUY, "0.01"), 0)
            venue.cancel("kv-rc-open", 0)
            await until(
                venue,
                events,
                lambda ev: (
                    bool(of(OrderFilled, ev, "kv-rc-2"))
                    and bool(of(OrderCancelled, ev, "kv-rc-open"))
                ),
            )
            await asyncio.sleep(0.3)
            events.extend(venue.poll())
            return events, venue, await rest.private("TradesHistory")

    events, venue, trades = asyncio.run(scenario())
    assert venue.session.connections >= 2
    assert any(isinstance(e, StreamGap) for e in venue.session.stream_events)
    assert venue.replayed_fills >= 1  # the snapshot did repeat the first fill
    fills = [e.fill for e in events if isinstance(e, OrderFilled)]
    ids = [f.trade_id for f in fills]
    assert len(ids) == len(set(ids)) == len(trades["trades"])  # no fill reported twice
    assert len(of(OrderAccepted, events, "kv-rc-open")) == 1  # the snapshot repeated nothing
    assert len(of(OrderAccepted, events, "kv-rc-1")) == 1


def test_an_order_cancelled_while_disconnected_is_reconciled(
    emulator: Emulator, tmp_path: Path
) -> None:
    async def scenario() -> list[VenueEvent]:
        async with live(emulator, tmp_path, 1.5, USD="100000") as (venue, rest):
            events: list[VenueEvent] = []
            venue.submit(limit("kv-gone", Side.BUY, "0.01", await far_bid(rest)), 0)
            await until(venue, events, lambda ev: bool(of(OrderAccepted, ev, "kv-gone")))
            httpx.post(f"{emulator.url}/emulator/faults", json={"ws_drop": True})
            # The connection is dropped.
            await eventually(lambda: not venue.session.ready.is_set(), within=15, every=0.02)
            # Cancelled elsewhere (REST, same key) while the venue is not listening.
            await rest.private("CancelOrder", {"cl_ord_id": "kv-gone"})
            await until(venue, events, lambda ev: bool(of(OrderCancelled, ev, "kv-gone")))
            return events

    events = asyncio.run(scenario())
    assert [type(e) for e in events] == [OrderAccepted, OrderCancelled]
    (cancelled,) = of(OrderCancelled, events, "kv-gone")
    assert cancelled.reason == "User requested"


class BuyOnce(Strategy):
    """Buys a little on the first tick: enough to see one engine drive the live venue."""

    name = "buy-once"

    def __init__(self) -> None:
        self.placed: str | None = None
        self.fills: list[Fill] = []

    def on_start(self, ctx: StrategyContext) -> None:
        pass

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        pass

    def on_tick(self, ctx: StrategyContext, tick: Tick) -> None:
        if self.placed is None:
            self.placed = ctx.place(tick.symbol, Side.BUY, Decimal("0.001"), reason="entry")

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        self.fills.append(fill)

    def on_order_update(self, ctx: StrategyContext, order: Order) -> None:
        pass


def test_the_engine_trades_through_the_kraken_venue(emulator: Emulator, tmp_path: Path) -> None:
    """The engine that backtests against the SimBroker, fed live ticks, on KrakenVenue."""

    async def scenario() -> tuple[Engine, BuyOnce, dict[str, Any]]:
        async with live(emulator, tmp_path, USD="100000") as (venue, rest):
            instruments = {"XBTUSD": XBTUSD}
            strategy = BuyOnce()
            config = TradingConfig(
                sizing=SizingConfig(SizingMethod.FIXED, Decimal("0.1")),
                exits=None,
                costs=Costs(Decimal("0.004")),
                limits=RiskLimits(),
                order_id_prefix="kveng",
            )
            engine = Engine(
                instruments=instruments,
                portfolio=Portfolio(instruments, Decimal("100000")),
                venue=venue,
                strategy=strategy,
                config=config,
            )
            engine.start(time.time_ns())
            stream = KrakenMarketStream(emulator.ws_url, ["BTC/USD"], trades=True)
            deadline = time.monotonic() + 10
            async for event in stream.events():
                if isinstance(event, Tick):
                    engine.on_tick(dataclasses.replace(event, symbol=altname_for_ws(event.symbol)))
                if strategy.fills or time.monotonic() > deadline:
                    break
            await stream.close()
            return engine, strategy, await rest.private("Balance")

    engine, strategy, balance = asyncio.run(scenario())
    assert strategy.placed is not None, engine.ledger.refusals
    order = engine.ledger.orders[strategy.placed]
    assert order.status is OrderStatus.FILLED
    assert engine.portfolio.total("XBT") == Decimal(balance["XXBT"]) == Decimal("0.001")
    spent = Decimal(100000) - engine.portfolio.total("USD")
    assert abs(spent - (Decimal(100000) - Decimal(balance["ZUSD"]))) < Decimal("0.0001")
