"""The SimBroker's tick models through the Venue API: the order book (``on_book``) and
printed trades (``on_trade``). Fees here are the flat 0.25 % maker / 0.40 % taker of the
test instrument; every price, quantity, fee and balance is worked out by hand.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from aether.domain.events import (
    BookLevel,
    BookSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    Tick,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from aether.venues.sim.broker import SimBroker
from tests.unit.domain.conftest import make_instrument

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
XBT = make_instrument()
BUY, SELL = Side.BUY, Side.SELL
MAKER, TAKER = Liquidity.MAKER, Liquidity.TAKER
MARKET, LIMIT = OrderType.MARKET, OrderType.LIMIT
IOC = TimeInForce.IOC

Levels = list[tuple[str, str]]
BIDS: Levels = [("19999.0", "0.4"), ("19998.0", "0.5"), ("19990.0", "2")]
ASKS: Levels = [("20000.0", "0.2"), ("20001.0", "0.3"), ("20005.0", "1.0")]


def ts(seconds: int) -> int:
    return T0 + seconds * NS


def book(bids: Levels = BIDS, asks: Levels = ASKS, at: int = 1) -> BookSnapshot:
    def side(levels: Levels) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(D(p), D(q)) for p, q in levels)

    return BookSnapshot("XBTUSD", side(bids), side(asks), ts(at))


def tick(price: str, qty: str, at: int) -> Tick:
    return Tick("XBTUSD", D(price), D(qty), ts(at))


def request(
    cl: str, side: Side, kind: OrderType = MARKET, qty: str = "1", **kw: Any
) -> OrderRequest:
    return Order.create(XBT, cl_ord_id=cl, side=side, type=kind, quantity=qty, **kw).request


def broker(usd: str = "100000", xbt: str = "0") -> SimBroker:
    return SimBroker({"XBTUSD": XBT}, {"USD": D(usd), "XBT": D(xbt)})


def filled(
    trade: str, cl: str, side: Side, qty: str, price: str, fee: str, liq: Liquidity, at: int
) -> OrderFilled:
    fill = Fill(trade, cl, "XBTUSD", side, D(qty), D(price), D(fee), "USD", liq, ts(at))
    return OrderFilled(fill)


def submitted(b: SimBroker, *requests: OrderRequest) -> list[Order]:
    """Submit at T0 and check every one was accepted; the venue's live orders."""
    for r in requests:
        b.submit(r, T0)
    assert b.poll() == [OrderAccepted(r.cl_ord_id, T0) for r in requests]
    return b.open_orders()


# --- the book ------------------------------------------------------------------------------


def test_market_buy_walks_the_asks_at_each_level_price() -> None:
    b = broker()
    (order,) = submitted(b, request("m", BUY, qty="0.6"))
    b.on_book(book())
    fills = b.poll()
    assert fills == [
        filled("SIM-1", "m", BUY, "0.2", "20000.0", "16", TAKER, 1),  # 4000 x 0.4 %
        filled("SIM-2", "m", BUY, "0.3", "20001.0", "24.0012", TAKER, 1),  # 6000.3
        filled("SIM-3", "m", BUY, "0.1", "20005.0", "8.002", TAKER, 1),  # 2000.5
    ]
    prices = [e.fill.price for e in fills if isinstance(e, OrderFilled)]
    assert min(prices) == D("20000.0")  # never better than the touch
    assert order.avg_fill_price == D("12000.8") / D("0.6")  # the VWAP of the three
    assert order.status is OrderStatus.FILLED
    assert b.balances == {"USD": D("87951.1968"), "XBT": D("0.6")}  # 12000.8 + 48.0032


def test_market_order_larger_than_the_visible_book_expires_the_rest() -> None:
    b = broker()
    (order,) = submitted(b, request("m", BUY, qty="2"))
    b.on_book(book())
    assert b.poll() == [
        filled("SIM-1", "m", BUY, "0.2", "20000.0", "16", TAKER, 1),
        filled("SIM-2", "m", BUY, "0.3", "20001.0", "24.0012", TAKER, 1),
        filled("SIM-3", "m", BUY, "1.0", "20005.0", "80.02", TAKER, 1),
        OrderExpired("m", ts(1)),
    ]
    assert (order.status, order.filled_quantity) == (OrderStatus.EXPIRED, D("1.5"))


def test_marketable_limit_walks_only_levels_within_its_limit_and_the_rest_rests() -> None:
    b = broker()
    (order,) = submitted(b, request("l", BUY, LIMIT, "1", price="20001.0"))
    b.on_book(book())
    assert b.poll() == [
        filled("SIM-1", "l", BUY, "0.2", "20000.0", "16", TAKER, 1),
        filled("SIM-2", "l", BUY, "0.3", "20001.0", "24.0012", TAKER, 1),
    ]  # 20005.0 is beyond the limit, and nothing expires
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert b.open_orders() == [order]
    b.on_book(book(asks=[("20002.0", "5")], at=2))  # above the limit: nothing
    assert b.poll() == []
    b.on_book(book(asks=[("20001.0", "5")], at=3))
    # It rested, so the book moving onto it makes it the maker, at its own price.
    assert b.poll() == [filled("SIM-3", "l", BUY, "0.5", "20001.0", "25.00125000", MAKER, 3)]
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, D(1))
    # 20000.8 spent and 65.12745 in fees (the last 0.5 at the maker rate).
    assert b.balances == {"USD": D("79934.19755"), "XBT": D("1")}


def test_post_only_limit_that_would_cross_is_cancelled() -> None:
    b = broker()
    _, resting = submitted(
        b,
        request("p1", BUY, LIMIT, price="20000.0", post_only=True),  # at the best ask
        request("p2", BUY, LIMIT, price="19999.5", post_only=True),  # inside the spread
    )
    b.on_book(book())
    assert b.poll() == [OrderCancelled("p1", "post-only order would take liquidity", ts(1))]
    assert b.open_orders() == [resting]
    assert b.balances == {"USD": D("100000"), "XBT": D("0")}


def test_sell_stop_triggers_on_the_best_bid_and_walks_the_bids() -> None:
    b = broker(usd="0", xbt="1")
    (order,) = submitted(b, request("s", SELL, OrderType.STOP_LOSS, "0.6", trigger_price="19999.5"))
    b.on_book(book(bids=[("20000.0", "1")], asks=[("20000.5", "1")]))
    assert b.poll() == []  # the bid is above the trigger
    b.on_book(book(at=2))  # best bid 19999.0 <= 19999.5 < best ask 20000.0
    assert b.poll() == [
        filled("SIM-1", "s", SELL, "0.4", "19999.0", "31.9984", TAKER, 2),  # 7999.6
        filled("SIM-2", "s", SELL, "0.2", "19998.0", "15.9984", TAKER, 2),  # 3999.6
    ]
    assert order.status is OrderStatus.FILLED
    assert b.balances == {"USD": D("11951.2032"), "XBT": D("0.4")}


def test_ioc_leftovers_expire() -> None:
    b = broker()
    submitted(
        b,
        request("i1", BUY, LIMIT, "1", price="20001.0", time_in_force=IOC),
        request("i2", BUY, LIMIT, "1", price="19999.5", time_in_force=IOC),  # does not cross
    )
    b.on_book(book())
    assert b.poll() == [
        filled("SIM-1", "i1", BUY, "0.2", "20000.0", "16", TAKER, 1),
        filled("SIM-2", "i1", BUY, "0.3", "20001.0", "24.0012", TAKER, 1),
        OrderExpired("i1", ts(1)),
        OrderExpired("i2", ts(1)),
    ]
    assert b.open_orders() == []


def test_an_empty_book_side_does_nothing_to_the_orders_that_need_it() -> None:
    b = broker(xbt="1")
    buy, sell = submitted(b, request("mb", BUY, qty="0.1"), request("ms", SELL, qty="0.1"))
    b.on_book(book(bids=[], asks=[]))
    b.on_book(book(bids=[], asks=[("20000.0", "1")], at=2))
    assert b.poll() == [filled("SIM-1", "mb", BUY, "0.1", "20000.0", "8", TAKER, 2)]
    assert sell.status is OrderStatus.ACCEPTED  # still working, not expired
    b.on_book(book(bids=[("19999.0", "1")], asks=[], at=3))
    assert b.poll() == [filled("SIM-2", "ms", SELL, "0.1", "19999.0", "7.9996", TAKER, 3)]
    assert (buy.status, sell.status) == (OrderStatus.FILLED, OrderStatus.FILLED)


# --- printed trades ------------------------------------------------------------------------


def test_resting_limit_fills_at_its_own_price_as_maker_up_to_the_printed_quantity() -> None:
    b = broker(xbt="1")
    buy, sell = submitted(
        b,
        request("lb", BUY, LIMIT, "1", price="19990.0"),
        request("ls", SELL, LIMIT, "0.5", price="20010.0"),
    )
    b.on_trade(tick("19995.0", "5", 1))  # between the two: nothing
    assert b.poll() == []
    b.on_trade(tick("19990.0", "0.3", 2))  # at the buy's price
    assert b.poll() == [filled("SIM-1", "lb", BUY, "0.3", "19990.0", "14.9925", MAKER, 2)]
    assert buy.status is OrderStatus.PARTIALLY_FILLED
    b.on_trade(tick("19980.0", "2", 3))  # through it: the rest, still at 19990.0
    assert b.poll() == [filled("SIM-2", "lb", BUY, "0.7", "19990.0", "34.9825", MAKER, 3)]
    b.on_trade(tick("20020.0", "0.2", 4))  # through the sell: 0.2 of it at 20010.0
    assert b.poll() == [filled("SIM-3", "ls", SELL, "0.2", "20010.0", "10.005", MAKER, 4)]
    assert (buy.status, sell.status) == (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)
    # 100000 - 19990 - 49.975 + 4002 - 10.005
    assert b.balances == {"USD": D("83952.02"), "XBT": D("1.8")}


def test_stop_loss_fills_whole_at_the_printed_price() -> None:
    b = broker(usd="0", xbt="1")
    submitted(b, request("s", SELL, OrderType.STOP_LOSS, "0.5", trigger_price="19950.0"))
    b.on_trade(tick("19960.0", "1", 1))
    assert b.poll() == []
    b.on_trade(tick("19940.0", "0.01", 2))  # through the trigger: worse than it
    assert b.poll() == [filled("SIM-1", "s", SELL, "0.5", "19940.0", "39.88", TAKER, 2)]
    assert b.balances == {"USD": D("9930.12"), "XBT": D("0.5")}  # 9970 - 39.88


def test_trailing_stop_follows_the_trades() -> None:
    b = broker(usd="0", xbt="1")
    submitted(b, request("t", SELL, OrderType.TRAILING_STOP, "0.5", trailing_offset="50.0"))
    for n, price in enumerate(["20000.0", "20100.0", "20060.0", "20051.0"], 1):
        b.on_trade(tick(price, "1", n))  # the stop rises to 20050.0; not reached yet
    assert b.poll() == []
    b.on_trade(tick("20040.0", "1", 5))  # above the first stop (19950.0), below 20050.0
    assert b.poll() == [filled("SIM-1", "t", SELL, "0.5", "20040.0", "40.08", TAKER, 5)]
    assert b.balances == {"USD": D("9979.92"), "XBT": D("0.5")}


def test_market_order_on_a_trade_fills_whole_at_the_printed_price() -> None:
    b = broker()
    submitted(b, request("m", BUY, qty="0.5"))
    b.on_trade(tick("20003.0", "0.01", 1))
    assert b.poll() == [filled("SIM-1", "m", BUY, "0.5", "20003.0", "40.006", TAKER, 1)]
