"""Matching by price-time priority, fills on both sides, fees by tier and exact balances.

Every figure is worked out by hand: XBTUSD fees are 0.25 % maker / 0.40 % taker below
10 000 USD of 30-day volume and 0.20 % / 0.35 % from there.
"""

from __future__ import annotations

import pytest

from aether.emulator.exchange.errors import INSUFFICIENT_FUNDS, ExchangeError
from aether.emulator.exchange.orders import OrderStatus
from tests.unit.emulator.exchange_helpers import (
    HOLD_FACTOR,
    SECOND,
    T0,
    D,
    funded,
    new_exchange,
    order,
    txid_of,
)


def test_a_crossing_limit_fills_at_the_makers_price_and_the_rest_of_the_maker_rests() -> None:
    ex = new_exchange()
    maker = funded(ex, usd="0", xbt="10")
    taker = funded(ex, usd="100000", xbt="0")
    ask = txid_of(order(ex, maker, "sell", "1", "50000.0"))

    result = order(ex, taker, "buy", "0.4", "50010.0", now=T0 + 1)

    assert result.order is not None
    assert result.order.status is OrderStatus.CLOSED
    assert (result.order.vol_exec, result.order.cost) == (D("0.4"), D("20000"))
    assert (result.order.price, result.order.fee) == (D("50000"), D("80"))  # 0.40 % taker
    balances = ex.balances(taker)
    assert balances["USD"].balance == D("79920")  # 100000 - 20000 - 80
    assert balances["XBT"].balance == D("0.4")
    assert balances["USD"].hold_trade == 0
    maker_balances = ex.balances(maker)
    assert maker_balances["USD"].balance == D("19950")  # 20000 - 50 (0.25 % maker)
    assert maker_balances["XBT"].balance == D("9.6")
    assert maker_balances["XBT"].hold_trade == D("0.6")  # what the ask still offers
    (rest,) = ex.open_orders(maker)
    assert (rest.txid, rest.vol_exec, rest.status) == (ask, D("0.4"), OrderStatus.OPEN)
    assert ex.fees_collected == {"USD": D("130")}
    assert ex.last_price("XBTUSD") == D("50000.0")


def test_a_limit_that_does_not_cross_rests_and_holds_quote_with_the_highest_fee() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex, usd="100000", xbt="0")
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, taker, "buy", "1", "49000.0")

    assert result.order is not None
    assert result.order.status is OrderStatus.OPEN
    assert ex.balances(taker)["USD"].hold_trade == D("49196")  # 49000 * 1.004
    depth = ex.depth("XBTUSD")
    assert [(lv.price, lv.volume) for lv in depth.bids] == [(D("49000.0"), D("1"))]
    assert [(lv.price, lv.volume) for lv in depth.asks] == [(D("50000.0"), D("1"))]


def test_both_sides_get_a_trade_with_their_own_txid_and_maker_flag() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex)
    ask = txid_of(order(ex, maker, "sell", "1", "50000.0"))
    bid = txid_of(order(ex, taker, "buy", "1", "50000.0", now=T0 + 5))

    (mine,) = ex.trades_history(taker)
    (theirs,) = ex.trades_history(maker)
    assert (mine.ordertxid, mine.maker, mine.side, mine.fee) == (bid, False, "buy", D("200"))
    assert (theirs.ordertxid, theirs.maker, theirs.side, theirs.fee) == (
        ask,
        True,
        "sell",
        D("125"),
    )
    assert mine.trade_id == theirs.trade_id
    assert mine.txid != theirs.txid
    assert mine.txid.startswith("T")
    assert mine.time_ns == T0 + 5
    assert (mine.price, mine.vol, mine.cost) == (D("50000.0"), D("1"), D("50000.0"))


def test_a_partial_fill_leaves_the_taker_resting_with_the_remainder() -> None:
    ex = new_exchange()
    buyer = funded(ex)
    seller = funded(ex, usd="0", xbt="2")
    order(ex, buyer, "buy", "0.5", "50000.0")

    result = order(ex, seller, "sell", "2", "50000.0")

    assert result.order is not None
    assert (result.order.status, result.order.vol_exec) == (OrderStatus.OPEN, D("0.5"))
    assert ex.balances(seller)["XBT"].hold_trade == D("1.5")
    assert [(lv.price, lv.volume) for lv in ex.depth("XBTUSD").asks] == [(D("50000.0"), D("1.5"))]
    assert ex.depth("XBTUSD").bids == ()
    # The seller was the taker: 25000 - 100 (0.40 %).
    assert ex.balances(seller)["USD"].balance == D("24900")


def test_better_price_first_then_the_earlier_order_at_the_same_price() -> None:
    ex = new_exchange()
    first, second, cheaper = funded(ex), funded(ex), funded(ex)
    taker = funded(ex)
    early = txid_of(order(ex, first, "sell", "1", "50000.0", now=T0))
    late = txid_of(order(ex, second, "sell", "1", "50000.0", now=T0 + 1))
    best = txid_of(order(ex, cheaper, "sell", "1", "49999.9", now=T0 + 2))

    order(ex, taker, "buy", "1.5", now=T0 + 3)

    fills = [(t.price, t.vol) for t in reversed(ex.trades_history(taker))]
    assert fills == [(D("49999.9"), D("1")), (D("50000.0"), D("0.5"))]
    assert ex.query_orders(cheaper, [best])[0].status is OrderStatus.CLOSED
    assert ex.query_orders(first, [early])[0].vol_exec == D("0.5")
    assert ex.query_orders(second, [late])[0].vol_exec == 0
    assert ex.trades_history(second) == []


def test_a_market_order_walks_the_levels() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex, usd="1000000", xbt="0")
    order(ex, maker, "sell", "1", "50000.0")
    order(ex, maker, "sell", "2", "50001.0")
    order(ex, maker, "sell", "3", "50002.0")

    result = order(ex, taker, "buy", "2.5")

    assert result.order is not None
    assert result.order.status is OrderStatus.CLOSED
    assert result.order.cost == D("125001.5")  # 1 * 50000 + 1.5 * 50001
    # The first fill (50000 USD) lifts the taker into the next tier for the second fill:
    # 0.40 % of 50000 + 0.35 % of 75001.5.
    assert result.order.fee == D("200") + D("262.50525")
    assert result.order.price == D("50000.6")
    assert ex.balances(taker)["USD"].balance == D("874535.99475")
    assert ex.balances(taker)["USD"].hold_trade == 0
    assert ex.last_price("XBTUSD") == D("50001.0")
    assert [(lv.price, lv.volume) for lv in ex.depth("XBTUSD").asks] == [
        (D("50001.0"), D("0.5")),
        (D("50002.0"), D("3")),
    ]


def test_a_market_order_beyond_the_book_fills_what_there_is_and_cancels_the_rest() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex)
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, taker, "buy", "3")

    assert result.order is not None
    assert (result.order.status, result.order.vol_exec) == (OrderStatus.CANCELED, D("1"))
    assert result.order.reason == "Insufficient liquidity"
    assert ex.balances(taker)["USD"].hold_trade == 0


def test_the_fee_tier_follows_30_day_volume() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex, volume="9000")
    order(ex, maker, "sell", "1", "50000.0")

    first = order(ex, taker, "buy", "0.04", now=T0)  # 2000 USD: volume 9000 -> 11000
    second = order(ex, taker, "buy", "0.04", now=T0 + 1)

    assert first.order is not None
    assert second.order is not None
    assert first.order.fee == D("8")  # 0.40 % of 2000 below 10 000 USD
    assert second.order.fee == D("7")  # 0.35 % of 2000 from 10 000 USD
    assert [t.fee for t in ex.trades_history(maker)] == [D("5"), D("5")]  # still tier 0
    volume, tier = ex.fee_tier(taker, "XBTUSD", T0 + 2)
    assert (volume, tier.taker) == (D("13000"), D("0.0035"))
    # Thirty days on, the traded volume has aged out and only the seeded volume is left.
    volume, tier = ex.fee_tier(taker, "XBTUSD", T0 + 31 * 86_400 * SECOND)
    assert (volume, tier.taker) == (D("9000"), D("0.0040"))


def test_a_price_improved_buy_gets_back_the_hold_it_did_not_use() -> None:
    ex = new_exchange()
    maker = funded(ex)
    taker = funded(ex, usd="100000", xbt="0")
    order(ex, maker, "sell", "0.5", "40000.0")

    result = order(ex, taker, "buy", "1", "50000.0")  # half fills at 40000, half rests

    assert result.order is not None
    assert result.order.status is OrderStatus.OPEN
    # Paid 20000 + 80; still holds 0.5 * 50000 * 1.004 for the rest.
    assert ex.balances(taker)["USD"].balance == D("79920")
    assert ex.balances(taker)["USD"].hold_trade == D("0.5") * D("50000.0") * HOLD_FACTOR


def test_cancel_releases_the_hold() -> None:
    ex = new_exchange()
    trader = funded(ex, usd="100000", xbt="1")
    bid = txid_of(order(ex, trader, "buy", "1", "49000.0"))
    ask = txid_of(order(ex, trader, "sell", "1", "60000.0"))
    assert ex.balances(trader)["USD"].hold_trade == D("49196")
    assert ex.balances(trader)["XBT"].hold_trade == D("1")

    assert ex.cancel(trader, bid, T0 + 1) == 1
    assert ex.cancel(trader, ask, T0 + 1) == 1

    assert ex.balances(trader)["USD"].hold_trade == 0
    assert ex.balances(trader)["XBT"].hold_trade == 0
    assert ex.balances(trader)["USD"].balance == D("100000")
    closed = ex.closed_orders(trader)
    assert [(o.txid, o.status, o.reason) for o in closed] == [
        (ask, OrderStatus.CANCELED, "User requested"),
        (bid, OrderStatus.CANCELED, "User requested"),
    ]
    assert ex.depth("XBTUSD").bids == ()
    assert ex.depth("XBTUSD").asks == ()


def test_insufficient_funds_counts_what_open_orders_hold() -> None:
    ex = new_exchange()
    trader = funded(ex, usd="1000", xbt="0")

    with pytest.raises(ExchangeError) as refused:
        order(ex, trader, "buy", "0.02", "50000.0")  # 1000 + 4 of fee hold
    assert refused.value.kraken_error == INSUFFICIENT_FUNDS == "EOrder:Insufficient funds"

    order(ex, trader, "buy", "0.0199", "50000.0")  # holds 995 * 1.004 = 998.98
    assert ex.balances(trader)["USD"].hold_trade == D("998.98")
    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "buy", "0.0001", "50000.0")  # needs 5.02, 1.02 is free
    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "sell", "0.01", "50000.0")  # no XBT at all
    assert len(ex.open_orders(trader)) == 1


def test_a_market_buy_is_refused_when_sweeping_the_book_costs_more_than_is_free() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex, usd="60000", xbt="0")
    order(ex, maker, "sell", "1", "50000.0")
    order(ex, maker, "sell", "1", "60000.0")

    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "buy", "1.5")  # 80000 plus fees

    order(ex, trader, "buy", "1")  # 50000 + 200
    assert ex.balances(trader)["USD"].balance == D("9800")


def test_huge_volumes_are_refused_not_crashed_on() -> None:
    ex = new_exchange()
    trader = funded(ex)
    order(ex, funded(ex), "sell", "1", "50000.0")

    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "buy", "9" * 30, "50000.0")
    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "sell", "9" * 30, "50000.0")
    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "sell", "9" * 30)
    with pytest.raises(ExchangeError, match="EGeneral:Invalid arguments:volume"):
        order(ex, trader, "buy", "9" * 50, "50000.0")
    with pytest.raises(ExchangeError, match="EGeneral:Invalid arguments:volume"):
        order(ex, trader, "buy", D("1E+100"), "50000.0")


def test_self_trade_prevention_cancels_the_newest_order_by_default() -> None:
    ex = new_exchange()
    trader = funded(ex)
    ask = txid_of(order(ex, trader, "sell", "1", "50000.0"))

    result = order(ex, trader, "buy", "1", "50000.0")

    assert result.order is not None
    assert (result.order.status, result.order.reason) == (
        OrderStatus.CANCELED,
        "Self trade prevention",
    )
    assert [o.txid for o in ex.open_orders(trader)] == [ask]
    assert ex.trades_history(trader) == []


def test_self_trade_prevention_cancel_oldest_takes_the_resting_order_off() -> None:
    ex = new_exchange()
    trader = funded(ex)
    other = funded(ex)
    ask = txid_of(order(ex, trader, "sell", "1", "50000.0"))
    order(ex, other, "sell", "1", "50001.0")

    result = order(ex, trader, "buy", "1", "50001.0", stptype="cancel-oldest")

    assert result.order is not None
    assert result.order.status is OrderStatus.CLOSED
    assert ex.query_orders(trader, [ask])[0].reason == "Self trade prevention"
    assert ex.trades_history(trader)[0].price == D("50001.0")


def test_fees_are_rounded_down_to_the_fee_decimals() -> None:
    ex = new_exchange()
    order(ex, funded(ex), "sell", "1", "50000.1")
    taker = funded(ex, usd="1000", xbt="0")

    result = order(ex, taker, "buy", "0.00012345")

    assert result.order is not None
    assert result.order.cost == D("6.172512345")
    assert result.order.fee == D("0.02469004")  # 0.4 % is 0.02469004938
    assert ex.balances(taker)["USD"].balance == D("1000") - D("6.172512345") - D("0.02469004")
