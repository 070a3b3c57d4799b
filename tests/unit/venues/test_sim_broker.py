"""The SimBroker through the Venue API (submit / cancel / poll) and its bar model (``on_bar``).

Every expectation is worked out by hand: prices, quantities, fees (half-up to 1e-8),
balances and the exact sequence of events.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from aether.domain.bars import Bar
from aether.domain.events import (
    BookLevel,
    BookSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Tick,
    VenueEvent,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.instruments import FeeSchedule, FeeTier
from aether.domain.orders import Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from aether.venues.sim.broker import SimBroker
from aether.venues.sim.fills import Slippage
from tests.unit.domain.conftest import make_instrument

NS = 1_000_000_000
HOUR = 3600
# Taker 0.40 % / maker 0.25 % below 10,000 USD of 30-day volume, 0.35 % / 0.20 % from it.
TIERS = FeeSchedule(
    (FeeTier(D(0), D("0.0025"), D("0.0040")), FeeTier(D(10000), D("0.0020"), D("0.0035")))
)
XBT = make_instrument(fees=TIERS)
BUY, SELL = Side.BUY, Side.SELL
MAKER, TAKER = Liquidity.MAKER, Liquidity.TAKER
MARKET, LIMIT = OrderType.MARKET, OrderType.LIMIT


def t(hour: int) -> int:
    """The start of hourly bar ``hour`` (the close of the one before), in ns."""
    return hour * HOUR * NS


def bar(hour: int, o: str, h: str, lo: str, c: str, v: str = "100") -> Bar:
    return Bar("XBTUSD", hour * HOUR, HOUR, D(o), D(h), D(lo), D(c), D(v), 10)


def flat(hour: int, price: str) -> Bar:
    return bar(hour, price, price, price, price)


def request(
    cl: str, side: Side, kind: OrderType = MARKET, qty: str = "0.1", **kw: Any
) -> OrderRequest:
    return Order.create(XBT, cl_ord_id=cl, side=side, type=kind, quantity=qty, **kw).request


def broker(usd: str = "100000", xbt: str = "0", **kw: Any) -> SimBroker:
    return SimBroker({"XBTUSD": XBT}, {"USD": D(usd), "XBT": D(xbt)}, **kw)


def filled(
    trade: str, cl: str, side: Side, qty: str, price: str, fee: str, liq: Liquidity, ts: int
) -> OrderFilled:
    return OrderFilled(Fill(trade, cl, "XBTUSD", side, D(qty), D(price), D(fee), "USD", liq, ts))


def test_market_order_decided_on_a_close_fills_at_the_next_open_as_taker() -> None:
    b = broker(usd="20000")
    b.on_bar(bar(0, "19000.0", "19600.0", "18900.0", "19500.0"))  # its close decides the buy
    b.submit(request("m1", BUY, qty="0.4"), t(1))
    assert b.poll() == [OrderAccepted("m1", t(1))]
    b.on_bar(bar(1, "20000.0", "20500.0", "19900.0", "20100.0"))
    # 0.4 x 20000.0 = 8000; taker 0.40 % = 32
    assert b.poll() == [filled("SIM-1", "m1", BUY, "0.4", "20000.0", "32", TAKER, t(1))]
    assert b.balances == {"USD": D("11968"), "XBT": D("0.4")}
    b.submit(request("m2", SELL, qty="0.1"), t(2))
    b.on_bar(bar(2, "21000.0", "21000.0", "20000.0", "20500.0"))
    # 0.1 x 21000.0 = 2100; fee 8.4 (volume 8000 is still the first tier)
    assert b.poll() == [
        OrderAccepted("m2", t(2)),
        filled("SIM-2", "m2", SELL, "0.1", "21000.0", "8.4", TAKER, t(2)),
    ]
    assert b.balances == {"USD": D("14059.6"), "XBT": D("0.3")}
    assert b.open_orders() == []


def test_resting_limit_filled_intrabar_pays_the_maker_fee_at_its_limit() -> None:
    b = broker(usd="20000")
    b.submit(request("l1", BUY, LIMIT, "0.5", price="19000.0"), t(1))
    b.on_bar(bar(1, "20000.0", "20100.0", "19500.0", "19800.0"))  # never down to 19000
    assert b.poll() == [OrderAccepted("l1", t(1))]
    b.on_bar(bar(2, "19800.0", "19900.0", "18900.0", "19200.0"))
    # 0.5 x 19000.0 = 9500 at the limit, not the low; maker 0.25 % = 23.75
    assert b.poll() == [filled("SIM-1", "l1", BUY, "0.5", "19000.0", "23.75", MAKER, t(2))]
    assert b.balances == {"USD": D("10476.25"), "XBT": D("0.5")}


def test_fees_are_rounded_half_up_to_1e_8() -> None:
    b = broker(usd="100")
    b.submit(request("r1", BUY, qty="0.00010250"), t(1))
    b.on_bar(flat(1, "20000.5"))
    b.submit(request("r2", BUY, qty="0.00010001"), t(2))
    b.on_bar(flat(2, "20000.5"))
    fees = [e.fill.fee for e in b.poll() if isinstance(e, OrderFilled)]
    # 2.05005125 x 0.004 = 0.008200205 -> up; 2.000250005 x 0.004 = 0.00800100002 -> down
    assert [str(f) for f in fees] == ["0.00820021", "0.00800100"]
    assert b.balances["USD"] == D("95.933497535")


def test_fee_tier_follows_the_simulated_30_day_volume() -> None:
    b = broker(usd="100000")
    # (hour, quantity at 20000.0, fee): 30 days are 720 hours
    plan = [
        (1, "0.3", "24"),  # 6000 at 0.40 %; volume 6000
        (2, "0.3", "24"),  # crosses 10000 with this fill, charged at the tier before it
        (3, "0.1", "7"),  # 2000 at 0.35 %; volume 14000
        (720, "0.1", "7"),  # the hour-1 fill is exactly 30 days old only at hour 721
        (721, "0.1", "7"),  # hour 1 dropped: 6000 + 2000 + 2000 = 10000, still the 2nd tier
        (722, "0.1", "8"),  # hour 2 dropped: 6000 < 10000, back to 0.40 %
    ]
    for n, (hour, qty, fee) in enumerate(plan, 1):
        b.submit(request(f"v{hour}", BUY, qty=qty), t(hour))
        b.on_bar(flat(hour, "20000.0"))
        fill = filled(f"SIM-{n}", f"v{hour}", BUY, qty, "20000.0", fee, TAKER, t(hour))
        assert b.poll() == [OrderAccepted(f"v{hour}", t(hour)), fill], hour


def test_fees_override_replaces_the_instrument_schedule() -> None:
    b = broker(usd="20000", fees=FeeSchedule.flat(D("0.001"), D("0.002")))
    b.submit(request("o1", BUY, qty="0.4"), t(1))
    b.submit(request("o2", BUY, LIMIT, "0.1", price="19000.0"), t(1))
    b.on_bar(bar(1, "20000.0", "20000.0", "18500.0", "19000.0"))
    assert b.poll()[2:] == [
        filled("SIM-1", "o1", BUY, "0.4", "20000.0", "16", TAKER, t(1)),  # 8000 x 0.2 %
        filled("SIM-2", "o2", BUY, "0.1", "19000.0", "1.9", MAKER, t(1)),  # 1900 x 0.1 %
    ]
    assert b.balances["USD"] == D("10082.1")


def test_slippage_moves_taker_fills_against_the_trader_only() -> None:
    b = broker(usd="50000", xbt="1", slippage=Slippage(D(10)))  # 10 bps
    b.submit(request("mb", BUY), t(1))
    b.submit(request("ms", SELL), t(1))
    b.submit(request("lb", BUY, LIMIT, price="19000.0"), t(1))
    b.on_bar(bar(1, "20000.3", "20100.0", "18900.0", "20000.0"))
    assert b.poll()[3:] == [
        # 20000.3 x 1.001 = 20020.3003 -> up to the tick; fee 2002.04 x 0.4 %
        filled("SIM-1", "mb", BUY, "0.1", "20020.4", "8.00816", TAKER, t(1)),
        # 20000.3 x 0.999 = 19980.2997 -> down to the tick; fee 1998.02 x 0.4 %
        filled("SIM-2", "ms", SELL, "0.1", "19980.2", "7.99208", TAKER, t(1)),
        # a maker fill at its limit is not slipped
        filled("SIM-3", "lb", BUY, "0.1", "19000.0", "4.75", MAKER, t(1)),
    ]
    assert b.balances == {"USD": D("48075.22976"), "XBT": D("1.1")}


def test_participation_cap_fills_over_several_bars() -> None:
    b = broker(usd="200000", participation=D("0.1"))
    b.submit(request("big", BUY, qty="5"), t(1))
    (order,) = b.open_orders()
    b.on_bar(bar(1, "20000.0", "20000.0", "20000.0", "20000.0", v="20"))  # cap 2
    assert b.poll()[1:] == [filled("SIM-1", "big", BUY, "2", "20000.0", "160", TAKER, t(1))]
    assert order.status is OrderStatus.PARTIALLY_FILLED
    b.on_bar(bar(2, "20100.0", "20100.0", "20100.0", "20100.0", v="20"))  # cap 2
    # volume 40000 now: 40200 x 0.35 %
    assert b.poll() == [filled("SIM-2", "big", BUY, "2", "20100.0", "140.7", TAKER, t(2))]
    assert order.status is OrderStatus.PARTIALLY_FILLED
    b.on_bar(bar(3, "20200.0", "20200.0", "20200.0", "20200.0", v="30"))  # cap 3, 1 left
    assert b.poll() == [filled("SIM-3", "big", BUY, "1", "20200.0", "70.7", TAKER, t(3))]
    assert (order.status, order.filled_quantity, order.avg_fill_price) == (
        OrderStatus.FILLED,
        D(5),
        D("20080"),  # (40000 + 40200 + 20200) / 5
    )
    assert b.balances == {"USD": D("99228.6"), "XBT": D("5")}
    assert b.open_orders() == []


def test_acceptance_refuses_sells_beyond_the_base_and_buys_beyond_the_cash() -> None:
    b = broker(usd="1000", xbt="0.5")
    b.submit(request("s1", SELL, qty="0.6"), t(1))
    b.submit(request("s2", SELL, LIMIT, "0.5", price="30000.0"), t(1))
    b.submit(request("b1", BUY, LIMIT, "0.5", price="2000.0"), t(1))  # 1000 + 4 of fee
    b.submit(request("b2", BUY, LIMIT, "0.498", price="2000.0"), t(1))  # 996 + 3.984
    assert b.poll() == [
        OrderRejected("s1", "insufficient funds", t(1)),
        OrderAccepted("s2", t(1)),
        OrderRejected("b1", "insufficient funds", t(1)),
        OrderAccepted("b2", t(1)),
    ]
    assert [o.cl_ord_id for o in b.open_orders()] == ["s2", "b2"]
    assert b.balances == {"USD": D("1000"), "XBT": D("0.5")}


def test_market_buy_that_gapped_up_is_trimmed_and_the_rest_cancelled() -> None:
    b = broker(usd="10000")
    b.submit(request("g", BUY, qty="0.45"), t(1))  # about 9036 at 20000
    (order,) = b.open_orders()
    b.on_bar(bar(1, "25000.0", "25500.0", "24800.0", "25100.0"))
    # 10000 / (25000 x 1.004) = 0.3984063745... -> 0.39840637; 9960.15925 + 39.840637
    assert b.poll() == [
        OrderAccepted("g", t(1)),
        filled("SIM-1", "g", BUY, "0.39840637", "25000.0", "39.840637", TAKER, t(1)),
        OrderCancelled("g", "insufficient funds", t(1)),
    ]
    assert b.balances == {"USD": D("0.000113"), "XBT": D("0.39840637")}
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, D("0.39840637"))


def test_trim_counts_the_fee_as_rounded_so_cash_never_goes_negative() -> None:
    b = broker(usd="5076.47347781")
    b.submit(request("g", BUY, qty="0.5"), t(1))
    b.on_bar(flat(1, "12072.8"))
    # 0.41881324 would cost 5056.248483872 + 20.22499394 (rounded up): 2e-9 too much
    assert b.poll()[1:] == [
        filled("SIM-1", "g", BUY, "0.41881323", "12072.8", "20.22499345", TAKER, t(1)),
        OrderCancelled("g", "insufficient funds", t(1)),
    ]
    assert b.balances == {"USD": D("0.000121216"), "XBT": D("0.41881323")}


def test_duplicate_cl_ord_id_and_unknown_pair_are_rejected() -> None:
    b = broker()
    b.submit(request("d", BUY, LIMIT, price="19000.0"), t(1))
    b.submit(request("d", SELL), t(1))
    eth = make_instrument("ETHUSD", base="ETH")
    b.submit(Order.create(eth, cl_ord_id="e", side=BUY, type=MARKET, quantity="1").request, t(1))
    assert b.poll() == [
        OrderAccepted("d", t(1)),
        OrderRejected("d", "duplicate cl_ord_id", t(1)),
        OrderRejected("e", "unknown pair ETHUSD", t(1)),
    ]
    assert [o.request.side for o in b.open_orders()] == [BUY]  # the first one still works
    b.on_bar(bar(1, "19000.0", "19000.0", "19000.0", "19000.0"))
    b.poll()
    b.submit(request("d", BUY), t(2))  # finished orders keep their id too
    assert b.poll() == [OrderRejected("d", "duplicate cl_ord_id", t(2))]


def test_cancel_an_open_order_and_an_unknown_or_finished_one() -> None:
    b = broker()
    b.submit(request("c", BUY, LIMIT, price="19000.0"), t(1))
    b.cancel("c", t(1) + 5 * NS)
    b.cancel("zz", t(1) + 6 * NS)
    assert b.poll() == [
        OrderAccepted("c", t(1)),
        OrderCancelled("c", "cancelled by request", t(1) + 5 * NS),
        OrderRejected("zz", "unknown or finished order", t(1) + 6 * NS),
    ]
    b.on_bar(bar(1, "19500.0", "19600.0", "18000.0", "18500.0"))  # would have filled it
    b.cancel("c", t(2))
    assert b.poll() == [OrderRejected("c", "unknown or finished order", t(2))]
    assert b.balances == {"USD": D("100000"), "XBT": D("0")}
    assert b.open_orders() == []


def test_gtd_order_expires_at_its_time() -> None:
    b = broker()
    gtd = request(
        "gtd", BUY, LIMIT, price="19000.0", time_in_force=TimeInForce.GTD, expire_at_ns=t(3)
    )
    b.submit(gtd, t(1))
    b.submit(request("gtc", BUY, LIMIT, price="19000.0"), t(1))
    b.on_bar(bar(1, "19500.0", "19600.0", "19100.0", "19200.0"))
    b.on_bar(bar(2, "19500.0", "19600.0", "19100.0", "19200.0"))
    assert b.poll() == [OrderAccepted("gtd", t(1)), OrderAccepted("gtc", t(1))]
    b.on_bar(bar(3, "19500.0", "19600.0", "18000.0", "18500.0"))  # starts at its expiry
    assert b.poll() == [
        OrderExpired("gtd", t(3)),
        filled("SIM-1", "gtc", BUY, "0.1", "19000.0", "4.75", MAKER, t(3)),
    ]


def test_ioc_keeps_only_what_fills_at_once() -> None:
    b = broker(participation=D("0.1"))
    ioc = TimeInForce.IOC
    b.submit(request("i1", BUY, qty="5", time_in_force=ioc), t(1))
    b.submit(request("i2", BUY, LIMIT, "1", price="19000.0", time_in_force=ioc), t(1))
    b.on_bar(bar(1, "20000.0", "20000.0", "18000.0", "18500.0", v="20"))  # cap 2
    assert b.poll()[2:] == [
        filled("SIM-1", "i1", BUY, "2", "20000.0", "160", TAKER, t(1)),
        OrderExpired("i1", t(1)),
        OrderExpired("i2", t(1)),  # only traded through later in the bar: not at once
    ]
    b.on_bar(bar(2, "18000.0", "18000.0", "17000.0", "17500.0", v="20"))
    assert b.poll() == []
    assert b.open_orders() == []


def test_latency_order_works_only_on_bars_from_its_arrival() -> None:
    b = broker(latency_ns=NS)
    b.submit(request("late", BUY), t(1))
    assert b.poll() == []  # on its way
    b.on_bar(flat(1, "20000.0"))  # began 1 s before it arrived
    assert b.poll() == []
    b.on_bar(flat(2, "21000.0"))
    assert b.poll() == [
        OrderAccepted("late", t(1) + NS),
        filled("SIM-1", "late", BUY, "0.1", "21000.0", "8.4", TAKER, t(2)),
    ]


def test_latency_cancel_on_the_way_and_events_in_time_order() -> None:
    b = broker(latency_ns=NS)
    b.submit(request("x", BUY), t(1))
    b.cancel("x", t(1))  # sent right behind it: it never works
    b.submit(request("a", BUY), t(1))
    b.submit(request("a", SELL), t(1) + 5 * NS)
    assert b.poll() == [
        OrderCancelled("x", "cancelled by request", t(1)),
        OrderAccepted("a", t(1) + NS),
        OrderRejected("a", "duplicate cl_ord_id", t(1) + 5 * NS),
    ]
    b.on_bar(flat(2, "20000.0"))
    assert [e.cl_ord_id for e in b.poll()] == ["a"]
    assert b.balances == {"USD": D("97992"), "XBT": D("0.1")}  # 2000 + 8, once


def _run() -> list[VenueEvent]:
    b = broker(xbt="1", participation=D("0.5"))
    events: list[VenueEvent] = []
    b.submit(request("a", BUY, qty="3"), t(1))
    b.submit(request("b", SELL, LIMIT, "0.5", price="20500.0"), t(1))
    for hour in (1, 2):
        b.on_bar(bar(hour, "20000.0", "20600.0", "19900.0", "20400.0", v="4"))
        events += b.poll()
    b.submit(request("c", BUY, LIMIT, "0.2", price="20100.0"), t(3))
    b.on_trade(Tick("XBTUSD", D("20050.0"), D("0.1"), t(3) + NS))
    b.on_book(
        BookSnapshot(
            "XBTUSD",
            (BookLevel(D("19990.0"), D(1)),),
            (BookLevel(D("20000.0"), D(1)),),
            t(3) + 2 * NS,
        )
    )
    return events + b.poll()


def test_trade_ids_count_up_and_a_run_repeats_exactly() -> None:
    first, second = _run(), _run()
    assert first == second
    trades = [e.fill.trade_id for e in first if isinstance(e, OrderFilled)]
    assert trades == ["SIM-1", "SIM-2", "SIM-3", "SIM-4", "SIM-5"]
