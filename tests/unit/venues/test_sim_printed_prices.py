"""Printed prices are used as printed; only prices the platform sets are on the tick grid.

The test instrument's tick is 0.1, and every market price here has more decimals than that,
as Kraken's early history does (XBTUSD opened at 203.59999 on 2013-11-01 07:00 UTC). A fill
at such a price keeps it exactly in the bar, book and trade models; slippage and trailing
stop levels, which the platform computes, are rounded to the tick.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from aether.domain.bars import Bar
from aether.domain.events import BookLevel, BookSnapshot, OrderAccepted, OrderFilled, Tick
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Order, OrderType, Side
from aether.venues.sim.broker import SimBroker
from aether.venues.sim.fills import BarMatcher, Slippage, WorkingOrder
from tests.unit.domain.conftest import make_instrument

NS = 1_000_000_000
HOUR = 3600
XBT = make_instrument()  # tick 0.1; taker 0.40 %, maker 0.25 %
EXACT = BarMatcher(XBT, Slippage())
BUY, SELL = Side.BUY, Side.SELL
MARKET = OrderType.MARKET
TAKER = Liquidity.TAKER


def bar(o: str, h: str, low: str, c: str, hour: int = 0) -> Bar:
    return Bar("XBTUSD", hour * HOUR, HOUR, D(o), D(h), D(low), D(c), D(100), 10)


def working(side: Side, kind: OrderType, qty: str = "1", **kw: Any) -> WorkingOrder:
    order = Order.create(XBT, cl_ord_id="c1", side=side, type=kind, quantity=qty, **kw)
    order.submit()
    order.accept()
    return WorkingOrder(order)


def broker(usd: str = "100000", xbt: str = "0") -> SimBroker:
    return SimBroker({"XBTUSD": XBT}, {"USD": D(usd), "XBT": D(xbt)})


def submit(b: SimBroker, side: Side, kind: OrderType, qty: str, at: int, **kw: Any) -> None:
    request = Order.create(XBT, cl_ord_id="o1", side=side, type=kind, quantity=qty, **kw).request
    b.submit(request, at)
    assert b.poll() == [OrderAccepted("o1", at)]


def fills(b: SimBroker) -> list[tuple[D, D, Liquidity]]:
    events = b.poll()
    return [
        (e.fill.price, e.fill.quantity, e.fill.liquidity)
        for e in events
        if isinstance(e, OrderFilled)
    ]


# --- the bar model ---------------------------------------------------------------------------


def test_market_orders_fill_at_an_off_tick_open_exactly_as_printed() -> None:
    for side in (BUY, SELL):
        m = EXACT.match(working(side, MARKET), bar("203.59999", "204", "203.37", "203.59999"))
        assert (m.price, m.liquidity) == (D("203.59999"), TAKER)
        assert str(m.price) == "203.59999"  # not 203.6: not even a trailing zero added


def test_limits_and_stops_that_take_at_the_open_fill_at_the_printed_open() -> None:
    limit = EXACT.match(
        working(BUY, OrderType.LIMIT, price="204.0"), bar("203.59999", "205", "203", "204")
    )
    assert (limit.price, limit.liquidity) == (D("203.59999"), TAKER)
    gapped_stop = EXACT.match(
        working(SELL, OrderType.STOP_LOSS, trigger_price="200.0"),
        bar("198.12345", "199", "197", "198"),
    )
    assert gapped_stop.price == D("198.12345")
    gapped_target = EXACT.match(
        working(SELL, OrderType.TAKE_PROFIT, trigger_price="200.0"),
        bar("201.98765", "203", "201", "202"),
    )
    assert gapped_target.price == D("201.98765")
    # A stop that fills at its trigger fills at the platform's price, which is on the grid.
    at_trigger = EXACT.match(
        working(SELL, OrderType.STOP_LOSS, trigger_price="200.0"),
        bar("201.12345", "202", "199.5", "200"),
    )
    assert at_trigger.price == D("200.0")


def test_only_a_slipped_price_is_the_platforms_and_rounded_to_the_tick_against_the_trader() -> None:
    on_open = bar("203.59999", "205", "202", "204")
    assert Slippage().apply(D("203.59999"), BUY, XBT) == D("203.59999")  # no slippage: as printed
    assert Slippage().apply(D("203.59999"), SELL, XBT) == D("203.59999")
    slipped = BarMatcher(XBT, Slippage(D(10)))  # 10 bps
    # 203.59999 * 1.001 = 203.80358999 -> up to 203.9; * 0.999 = 203.39639001 -> down to 203.3
    assert slipped.match(working(BUY, MARKET), on_open).price == D("203.9")
    assert slipped.match(working(SELL, MARKET), on_open).price == D("203.3")


def test_a_trailing_stop_level_from_an_off_tick_high_is_rounded_up_to_the_tick() -> None:
    # The high is 100.05, so the level is 100.05 - 1.0 = 99.05, rounded up to 99.1.
    trail = working(SELL, OrderType.TRAILING_STOP, trailing_offset="1.0")
    assert EXACT.match(trail, bar("100.05", "100.05", "99.5", "99.6")).price is None
    m = EXACT.match(trail, bar("99.5", "99.6", "99.08", "99.3"))  # 99.08 is below 99.1
    assert (m.price, m.liquidity) == (D("99.1"), TAKER)
    gapped = working(SELL, OrderType.TRAILING_STOP, trailing_offset="1.0")
    EXACT.match(gapped, bar("100.05", "100.05", "99.5", "99.6"))
    assert EXACT.match(gapped, bar("98.77777", "99", "98.5", "98.6")).price == D("98.77777")


def test_the_broker_books_a_bar_fill_at_the_printed_open_and_charges_fees_on_it() -> None:
    b = broker()
    submit(b, BUY, MARKET, "0.1", at=HOUR * NS)
    b.on_bar(bar("203.59999", "203.59999", "203.37", "203.59999", hour=1))
    # notional 20.359999; fee 0.40 % = 0.0814399960 -> 0.08144000 (half-up to 1e-8)
    fill = Fill(
        "SIM-1",
        "o1",
        "XBTUSD",
        BUY,
        D("0.1"),
        D("203.59999"),
        D("0.08144000"),
        "USD",
        TAKER,
        HOUR * NS,
    )
    assert b.poll() == [OrderFilled(fill)]
    assert b.balances == {"USD": D("100000") - D("20.359999") - D("0.08144"), "XBT": D("0.1")}


# --- the book and trade models -------------------------------------------------------------


def snapshot(bids: list[tuple[str, str]], asks: list[tuple[str, str]], at: int) -> BookSnapshot:
    def side(levels: list[tuple[str, str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(D(p), D(q)) for p, q in levels)

    return BookSnapshot("XBTUSD", side(bids), side(asks), at * NS)


def test_book_levels_fill_as_printed_and_a_trailing_stop_fires_at_its_rounded_level() -> None:
    market = broker()
    submit(market, BUY, MARKET, "0.5", at=NS)
    market.on_book(snapshot([("203.55555", "1")], [("203.59999", "0.2"), ("203.61234", "1")], at=2))
    assert fills(market) == [
        (D("203.59999"), D("0.2"), TAKER),
        (D("203.61234"), D("0.3"), TAKER),
    ]
    b = broker(xbt="1")
    submit(b, SELL, OrderType.TRAILING_STOP, "0.5", at=NS, trailing_offset="1.0")
    b.on_book(snapshot([("100.05", "1")], [("100.15", "1")], at=2))  # the high: level 99.1
    b.on_book(snapshot([("99.08765", "0.3"), ("99.01234", "1")], [("99.2", "1")], at=3))
    assert fills(b) == [(D("99.08765"), D("0.3"), TAKER), (D("99.01234"), D("0.2"), TAKER)]


def test_trades_fill_market_orders_and_trailing_stops_at_their_printed_price() -> None:
    b = broker()
    submit(b, BUY, MARKET, "0.5", at=NS)
    b.on_trade(Tick("XBTUSD", D("203.59999"), D("0.01"), 2 * NS))
    assert fills(b) == [(D("203.59999"), D("0.5"), TAKER)]
    trailing = broker(xbt="1")
    submit(trailing, SELL, OrderType.TRAILING_STOP, "0.5", at=NS, trailing_offset="1.0")
    trailing.on_trade(Tick("XBTUSD", D("100.05"), D("0.01"), 2 * NS))  # the high: level 99.1
    trailing.on_trade(Tick("XBTUSD", D("99.08765"), D("0.01"), 3 * NS))
    assert fills(trailing) == [(D("99.08765"), D("0.5"), TAKER)]
