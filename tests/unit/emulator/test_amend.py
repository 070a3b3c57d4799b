"""AmendOrder in the exchange core: in place, same txid, queue priority kept where Kraken
says it is (a quantity cut at the same price), holds follow the new terms."""

from __future__ import annotations

import pytest

from aether.emulator.exchange.errors import (
    INSUFFICIENT_FUNDS,
    TICK_SIZE_CHECK_FAILED,
    UNKNOWN_ORDER,
    ExchangeError,
)
from aether.emulator.exchange.matching import POST_ONLY_REJECTED, Exchange
from aether.emulator.exchange.orders import OrderStatus
from tests.unit.emulator.exchange_helpers import (
    HOLD_FACTOR,
    T0,
    D,
    funded,
    new_exchange,
    order,
    txid_of,
)


def two_bids() -> tuple[Exchange, str, str, str, str, str]:
    """An exchange, two bidders at 100.0 (first, then second), a seller and both txids."""
    ex = new_exchange()
    first, second, seller = funded(ex), funded(ex), funded(ex)
    a = txid_of(order(ex, first, "buy", "1", "100.0"))
    b = txid_of(order(ex, second, "buy", "1", "100.0", now=T0 + 1))
    return ex, first, second, seller, a, b


def test_a_quantity_cut_keeps_the_order_s_place() -> None:
    ex, first, second, seller, a, b = two_bids()
    result = ex.amend(first, a, T0 + 2, order_qty=D("0.5"))
    assert result.priority_kept
    assert (result.order.txid, result.order.volume) == (a, D("0.5"))
    assert ex.depth("XBTUSD").bids[0].volume == D("1.5")
    assert ex.balances(first)["USD"].hold_trade == D("0.5") * 100 * HOLD_FACTOR
    order(ex, seller, "sell", "0.5", "100.0", now=T0 + 3)
    assert ex.query_orders(first, [a])[0].status is OrderStatus.CLOSED
    assert ex.query_orders(second, [b])[0].vol_exec == 0


def test_a_larger_quantity_goes_to_the_back_of_the_queue() -> None:
    ex, first, second, seller, a, b = two_bids()
    assert not ex.amend(first, a, T0 + 2, order_qty=D("2")).priority_kept
    order(ex, seller, "sell", "1", "100.0", now=T0 + 3)
    assert ex.query_orders(second, [b])[0].status is OrderStatus.CLOSED
    assert ex.query_orders(first, [a])[0].vol_exec == 0
    assert ex.balances(first)["USD"].hold_trade == 2 * D(100) * HOLD_FACTOR


def test_a_new_price_loses_priority_and_a_crossing_price_trades_at_once() -> None:
    ex, first, _, seller, a, _ = two_bids()
    ask = txid_of(order(ex, seller, "sell", "1", "101.0"))
    result = ex.amend(first, a, T0 + 2, limit_price=D("101.0"))
    assert not result.priority_kept
    assert result.order.status is OrderStatus.CLOSED
    assert result.order.descr_price == "101.0"
    assert result.order.descr_order.endswith("@ limit 101.0")
    assert ex.query_orders(seller, [ask])[0].status is OrderStatus.CLOSED


def test_post_only_refuses_a_price_that_would_take() -> None:
    ex, first, _, seller, a, _ = two_bids()
    order(ex, seller, "sell", "1", "101.0")
    with pytest.raises(ExchangeError) as refused:
        ex.amend(first, a, T0 + 2, limit_price=D("101.0"), post_only=True)
    assert refused.value.kraken_error == POST_ONLY_REJECTED
    assert ex.query_orders(first, [a])[0].descr_price == "100.0"  # unchanged


def test_refusals_leave_the_order_as_it_was() -> None:
    ex = new_exchange()
    buyer = funded(ex, usd="200")
    a = txid_of(order(ex, buyer, "buy", "1", "100.0"))
    with pytest.raises(ExchangeError) as poor:
        ex.amend(buyer, a, T0 + 1, limit_price=D("300.0"))
    assert poor.value.kraken_error == INSUFFICIENT_FUNDS
    with pytest.raises(ExchangeError) as tick:
        ex.amend(buyer, a, T0 + 1, limit_price=D("100.05"))
    assert tick.value.kraken_error == TICK_SIZE_CHECK_FAILED
    with pytest.raises(ExchangeError) as unknown:
        ex.amend(buyer, "OXXXXX-XXXXX-XXXXXX", T0 + 1, order_qty=D("1"))
    assert unknown.value.kraken_error == UNKNOWN_ORDER
    with pytest.raises(ExchangeError, match="trigger_price"):
        ex.amend(buyer, a, T0 + 1, trigger_price=D("90.0"))
    info = ex.query_orders(buyer, [a])[0]
    assert (info.status, info.volume, info.descr_price) == (OrderStatus.OPEN, D(1), "100.0")
    assert ex.balances(buyer)["USD"].hold_trade == 100 * HOLD_FACTOR


def test_cutting_to_what_already_filled_cancels_the_rest() -> None:
    ex = new_exchange()
    buyer, seller = funded(ex), funded(ex)
    a = txid_of(order(ex, buyer, "buy", "1", "100.0"))
    order(ex, seller, "sell", "0.4", "100.0", now=T0 + 1)
    result = ex.amend(buyer, a, T0 + 2, order_qty=D("0.3"))
    assert result.order.status is OrderStatus.CANCELED
    assert result.order.vol_exec == D("0.4")
    assert ex.balances(buyer)["USD"].hold_trade == 0
    assert ex.depth("XBTUSD").bids == ()


def test_a_moved_trigger_fires_at_the_new_price_only() -> None:
    ex = new_exchange()
    owner, buyer, seller = funded(ex), funded(ex), funded(ex)
    order(ex, seller, "sell", "1", "100.0")
    order(ex, buyer, "buy", "1", "100.0")  # last trade 100
    stop = txid_of(order(ex, owner, "sell", "1", "90.0", ordertype="stop-loss", cl_ord_id="s1"))
    moved = ex.amend(owner, "s1", T0 + 1, trigger_price=D("95.0"))
    assert (moved.order.txid, moved.order.stopprice) == (stop, D("95.0"))
    assert moved.order.descr_order.endswith("@ stop loss 95.0")
    order(ex, buyer, "buy", "1", "96.0", now=T0 + 2)
    order(ex, buyer, "buy", "2", "94.0", now=T0 + 2)
    order(ex, seller, "sell", "1", "96.0", now=T0 + 3)  # prints 96: above the new trigger
    assert ex.query_orders(owner, [stop])[0].status is OrderStatus.OPEN
    order(ex, seller, "sell", "0.1", "94.0", now=T0 + 4)  # prints 94: through 95, fires
    fired = ex.query_orders(owner, [stop])[0]
    assert fired.status is OrderStatus.CLOSED
    assert "stopped" in fired.misc
    assert ex.open_orders(owner) == []
