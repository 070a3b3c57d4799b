"""The SimBroker's two restart aids: a seeded 30-day volume (the fee tier survives a
restart) and a re-placed limit marked as already resting (the maker when crossed).

Fees: taker 0.40 % below 10,000 USD of 30-day volume, 0.35 % from it.
"""

from __future__ import annotations

from decimal import Decimal as D

from aether.domain.events import BookLevel, BookSnapshot, OrderFilled, Tick
from aether.domain.executions import Liquidity
from aether.domain.instruments import FeeSchedule, FeeTier
from aether.domain.orders import Order, OrderType, Side
from aether.venues.sim.broker import SimBroker
from tests.unit.domain.conftest import make_instrument

NS = 1_000_000_000
DAY = 86_400 * NS
TIERS = FeeSchedule(
    (FeeTier(D(0), D("0.0025"), D("0.0040")), FeeTier(D(10000), D("0.0020"), D("0.0035")))
)
XBT = make_instrument(fees=TIERS)
NOW = 100 * DAY


def broker(**kw: object) -> SimBroker:
    return SimBroker({"XBTUSD": XBT}, {"USD": D("100000")}, **kw)  # type: ignore[arg-type]


def fee_of_market_buy(sim: SimBroker, cl: str) -> D:
    order = Order.create(XBT, cl_ord_id=cl, side=Side.BUY, type=OrderType.MARKET, quantity="0.1")
    sim.submit(order.request, NOW)
    sim.on_trade(Tick("XBTUSD", D("60000"), D("1"), NOW + 1))
    (filled,) = [e for e in sim.poll() if isinstance(e, OrderFilled)]
    return filled.fill.fee


def test_seeded_volume_sets_the_tier_until_it_ages_out() -> None:
    seeded = broker(volume_history=[(NOW - 29 * DAY, D("6000")), (NOW - 2 * DAY, D("6000"))])
    assert seeded.volume_30d == D("12000")
    assert fee_of_market_buy(seeded, "a") == D("21.00000000")  # 6,000 x 0.35 %
    aged = broker(volume_history=[(NOW - 31 * DAY, D("6000")), (NOW - 2 * DAY, D("6000"))])
    assert fee_of_market_buy(aged, "b") == D("24.00000000")  # 6,000 x 0.40 %
    assert aged.volume_30d == D("12000")  # 6,000 left in the window plus this fill


def test_a_limit_marked_rested_is_the_maker_when_the_book_crosses_it() -> None:
    sim = broker()
    order = Order.create(
        XBT, cl_ord_id="r", side=Side.BUY, type=OrderType.LIMIT, quantity="0.1", price="50000"
    )
    assert sim.mark_rested("r") is False  # not working yet
    sim.submit(order.request, NOW)
    assert sim.mark_rested("r") is True
    crossing = BookSnapshot(
        "XBTUSD", (BookLevel(D("49900"), D("1")),), (BookLevel(D("49950"), D("1")),), NOW + 1
    )
    sim.on_book(crossing)
    (filled,) = [e for e in sim.poll() if isinstance(e, OrderFilled)]
    assert (filled.fill.price, filled.fill.liquidity) == (D("50000"), Liquidity.MAKER)
