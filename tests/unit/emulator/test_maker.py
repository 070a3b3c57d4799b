"""The emulator's market maker: its ladder around the printed price, and what a market tick
costs (a tick that fell behind must stay cheap, or the emulator starves its own clients)."""

from __future__ import annotations

from aether.domain.instruments import Instrument
from aether.emulator.exchange.matching import Exchange, PlaceResult
from aether.emulator.exchange.orders import OrderRequest
from aether.emulator.market.generator import PairGrid
from aether.emulator.market.maker import HOUSE_BALANCE, BookShape, PairFeed
from aether.emulator.market.replay import BarReplay, shipped_bars
from aether.emulator.runtime import build_runtime
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from tests.unit.emulator.exchange_helpers import SECOND, T0, funded, order, xbtusd

SPEED = 3600.0  # an hour bar a second: about 20 trades a second


class CountingExchange(Exchange):
    """The real exchange, counting the orders placed on it."""

    placed = 0

    def place(self, account: str, request: OrderRequest, now_ns: int) -> PlaceResult:
        self.placed += 1
        return super().place(account, request, now_ns)


def replay_feed(exchange: Exchange, instrument: Instrument) -> PairFeed:
    house = {"USD": HOUSE_BALANCE, "XBT": HOUSE_BALANCE}
    maker, _ = exchange.create_account(house, house=True)
    flow, _ = exchange.create_account(house, house=True)
    grid = PairGrid("XBTUSD", instrument.tick_size, 8)
    generator = BarReplay(shipped_bars(), grid, seed=7)
    return PairFeed(exchange, instrument, generator, maker, flow, BookShape())


def test_the_ladder_brackets_the_last_print_after_every_tick() -> None:
    exchange = Exchange({"XBTUSD": xbtusd()})
    feed = replay_feed(exchange, xbtusd())
    feed.start(T0, SPEED)
    for step in range(1, 40):
        now = T0 + step * SECOND // 20
        feed.tick(now, 200)
        last = exchange.recent_trades("XBTUSD")[0][-1].price
        depth = exchange.depth("XBTUSD", 100)
        assert len(depth.bids) == len(depth.asks) == BookShape().levels
        assert depth.bids[0].price < last < depth.asks[0].price


def test_a_tick_that_fell_behind_requotes_the_ladder_once_not_per_trade() -> None:
    exchange = CountingExchange({"XBTUSD": xbtusd()})
    feed = replay_feed(exchange, xbtusd())
    feed.start(T0, SPEED)
    exchange.placed = 0
    printed = feed.tick(T0 + 3 * SECOND, 200)  # three seconds late: about 60 trades due
    assert printed >= 30
    # Each print is a maker post and a flow take; the ladder moves once, at most a full
    # ladder of new quotes. Moving it per trade placed about 30 quotes a print.
    assert exchange.placed <= 2 * printed + 2 * BookShape().levels


def test_house_accounts_keep_no_execution_events_clients_do() -> None:
    clock = [T0]
    runtime = build_runtime(load_instrument_snapshot(), market="replay", seed=7, speed=SPEED)
    runtime._clock = lambda: clock[0]  # the runtime's one wall-clock read, pinned
    runtime.start()
    client = funded(runtime.exchange)
    order(runtime.exchange, client, "buy", "0.01", "1000.0", now=clock[0])
    for _ in range(20):
        clock[0] += SECOND // 20
        runtime.tick()
    assert runtime.exchange.drain_executions(runtime.maker) == []
    assert runtime.exchange.drain_executions(runtime.flow) == []
    assert [event.exec_type.value for event in runtime.exchange.drain_executions(client)] == [
        "pending_new",
        "new",
    ]
