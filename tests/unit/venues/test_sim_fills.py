from __future__ import annotations

from decimal import Decimal as D

import pytest

from aether.domain.bars import Bar
from aether.domain.executions import Liquidity
from aether.domain.orders import Order, OrderType, Side, TimeInForce
from aether.venues.sim.fills import BarMatcher, Slippage, WorkingOrder
from tests.unit.domain.conftest import make_instrument

XBT = make_instrument()
EXACT = BarMatcher(XBT, Slippage())


def bar(o: str, h: str, low: str, c: str, v: str = "100") -> Bar:
    return Bar("XBTUSD", 0, 3600, D(o), D(h), D(low), D(c), D(v), 10)


def working(side: Side, kind: OrderType, qty: str = "1", **kw: object) -> WorkingOrder:
    order = Order.create(XBT, cl_ord_id="c1", side=side, type=kind, quantity=qty, **kw)  # type: ignore[arg-type]
    order.submit()
    order.accept()
    return WorkingOrder(order)


def test_market_fills_at_the_open_with_adverse_slippage_rounded_against() -> None:
    m = EXACT.match(working(Side.BUY, OrderType.MARKET), bar("100", "110", "90", "105"))
    assert (m.price, m.quantity, m.liquidity) == (D("100"), D(1), Liquidity.TAKER)
    slipped = BarMatcher(XBT, Slippage(D(10)))
    assert slipped.match(
        working(Side.BUY, OrderType.MARKET), bar("100.3", "110", "90", "105")
    ).price == D("100.5")
    assert slipped.match(
        working(Side.SELL, OrderType.MARKET), bar("100.3", "110", "90", "105")
    ).price == D("100.1")


def test_limit_resting_fills_at_its_limit_as_maker_and_never_better() -> None:
    buy = working(Side.BUY, OrderType.LIMIT, price="95.0")
    assert EXACT.match(buy, bar("100", "101", "96", "99")).price is None
    m = EXACT.match(buy, bar("100", "101", "90", "99"))
    assert (m.price, m.liquidity) == (D("95.0"), Liquidity.MAKER)
    sell = working(Side.SELL, OrderType.LIMIT, price="105.0")
    assert EXACT.match(sell, bar("100", "106", "99", "101")).price == D("105.0")


def test_limit_marketable_at_the_open_takes_at_the_open() -> None:
    m = EXACT.match(working(Side.BUY, OrderType.LIMIT, price="95.0"), bar("93", "97", "92", "96"))
    assert (m.price, m.liquidity) == (D("93"), Liquidity.TAKER)
    post = working(Side.BUY, OrderType.LIMIT, price="95.0", post_only=True)
    assert (
        EXACT.match(post, bar("93", "97", "92", "96")).rejected
        == "post-only order would take liquidity"
    )


def test_stop_loss_fills_at_trigger_or_at_a_gapped_open() -> None:
    stop = dict(trigger_price="90.0")
    m = EXACT.match(working(Side.SELL, OrderType.STOP_LOSS, **stop), bar("95", "96", "85", "88"))
    assert (m.price, m.liquidity) == (D("90.0"), Liquidity.TAKER)
    gap = EXACT.match(working(Side.SELL, OrderType.STOP_LOSS, **stop), bar("80", "82", "78", "81"))
    assert gap.price == D("80")  # worse than the trigger: the gap
    untouched = EXACT.match(
        working(Side.SELL, OrderType.STOP_LOSS, **stop), bar("95", "99", "91", "96")
    )
    assert untouched.price is None
    buy_stop = EXACT.match(
        working(Side.BUY, OrderType.STOP_LOSS, trigger_price="110.0"),
        bar("100", "112", "99", "111"),
    )
    assert buy_stop.price == D("110.0")


def test_take_profit_triggers_on_the_favourable_side() -> None:
    tp = working(Side.SELL, OrderType.TAKE_PROFIT, trigger_price="110.0")
    assert EXACT.match(tp, bar("100", "105", "85", "90")).price is None  # a fall does not fire it
    assert EXACT.match(tp, bar("100", "111", "99", "108")).price == D("110.0")
    gapped = working(Side.SELL, OrderType.TAKE_PROFIT, trigger_price="110.0")
    assert EXACT.match(gapped, bar("115", "116", "112", "113")).price == D("115")


def test_stop_limit_triggers_then_rests_unless_marketable() -> None:
    order = working(Side.SELL, OrderType.STOP_LOSS_LIMIT, trigger_price="90.0", price="89.0")
    m = EXACT.match(order, bar("95", "96", "85", "88"))
    assert (m.price, order.triggered) == (D("90.0"), True)  # marketable at the trigger
    rest = working(Side.SELL, OrderType.STOP_LOSS_LIMIT, trigger_price="90.0", price="89.0")
    assert EXACT.match(rest, bar("85", "86", "80", "84")).price is None  # gapped below the limit
    assert rest.triggered
    assert EXACT.match(rest, bar("84", "89.5", "83", "88")).price == D("89.0")


def test_trailing_stop_ratchets_and_is_checked_before_the_new_high() -> None:
    trail = working(Side.SELL, OrderType.TRAILING_STOP, trailing_offset="10.0")
    assert EXACT.match(trail, bar("100", "120", "95", "118")).price is None  # stop 90, then 120
    assert trail.extreme == D("120")
    m = EXACT.match(trail, bar("115", "116", "105", "106"))
    assert m.price == D("110.0")
    with pytest.raises(Exception, match="trailing"):
        Order.create(XBT, cl_ord_id="x", side=Side.SELL, type=OrderType.TRAILING_STOP, quantity="1")
    buy_trail = working(Side.BUY, OrderType.TRAILING_STOP, trailing_offset="10.0")
    assert EXACT.match(buy_trail, bar("100", "101", "99", "100")).rejected is not None


def test_ioc_keeps_only_what_fills_at_once() -> None:
    resting = working(Side.BUY, OrderType.LIMIT, price="95.0", time_in_force=TimeInForce.IOC)
    m = EXACT.match(resting, bar("100", "101", "90", "99"))
    assert (m.price, m.expired) == (None, True)  # would only fill later: no
    capped = BarMatcher(XBT, Slippage(), participation=D("0.1"))
    part = capped.match(
        working(Side.BUY, OrderType.MARKET, "5", time_in_force=TimeInForce.IOC),
        bar("100", "101", "99", "100", v="20"),
    )
    assert (part.quantity, part.expired) == (D("2.00000000"), True)


def test_participation_cap_leaves_the_rest_working() -> None:
    capped = BarMatcher(XBT, Slippage(), participation=D("0.5"))
    order = working(Side.BUY, OrderType.MARKET, "5")
    m = capped.match(order, bar("100", "101", "99", "100", v="4"))
    assert (m.quantity, m.expired) == (D("2.0"), False)
    assert capped.match(order, bar("100", "101", "99", "100", v="0")).price is None
    with pytest.raises(ValueError, match="participation"):
        BarMatcher(XBT, Slippage(), participation=D(2))
