"""Time in force, post-only, client ids, cancels, the dead man's switch and validate-only."""

from __future__ import annotations

import pytest

from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.exchange.orders import ExecType, OrderStatus, TimeInForce
from tests.unit.emulator.exchange_helpers import (
    SECOND,
    T0,
    D,
    funded,
    new_exchange,
    order,
    txid_of,
)


def test_a_post_only_order_that_would_take_is_cancelled_untraded() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex, usd="100000", xbt="0")
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, trader, "buy", "1", "50000.0", oflags="post")

    assert result.order is not None
    assert (result.order.status, result.order.reason) == (OrderStatus.CANCELED, "Post only order")
    assert result.order.vol_exec == 0
    assert ex.trades_history(trader) == []
    assert ex.balances(trader)["USD"].hold_trade == 0
    assert [lv.volume for lv in ex.depth("XBTUSD").asks] == [D("1")]


def test_a_post_only_order_that_does_not_cross_rests() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex)
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, trader, "buy", "1", "49999.9", oflags="post")

    assert result.order is not None
    assert result.order.status is OrderStatus.OPEN
    assert result.order.oflags == ("post",)
    assert [lv.price for lv in ex.depth("XBTUSD").bids] == [D("49999.9")]


def test_ioc_fills_what_it_can_and_cancels_the_remainder() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex)
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, trader, "buy", "2", "50000.0", timeinforce="IOC")

    assert result.order is not None
    assert (result.order.status, result.order.vol_exec) == (OrderStatus.CANCELED, D("1"))
    assert result.order.reason == "Immediate or cancel"
    assert ex.depth("XBTUSD").bids == ()
    assert ex.balances(trader)["USD"].hold_trade == 0
    assert ex.open_orders(trader) == []


def test_a_gtd_order_expires_when_time_reaches_its_expiry() -> None:
    ex = new_exchange()
    trader = funded(ex)
    bid = txid_of(order(ex, trader, "buy", "1", "49000.0", timeinforce="GTD", expiretm="+60"))

    ex.advance(T0 + 59 * SECOND)
    assert [o.txid for o in ex.open_orders(trader)] == [bid]

    ex.advance(T0 + 60 * SECOND)
    (closed,) = ex.closed_orders(trader)
    assert (closed.txid, closed.status, closed.closetm_ns) == (
        bid,
        OrderStatus.EXPIRED,
        T0 + 60 * SECOND,
    )
    assert closed.expiretm_ns == T0 + 60 * SECOND
    assert ex.open_orders(trader) == []
    assert ex.depth("XBTUSD").bids == ()
    assert ex.balances(trader)["USD"].hold_trade == 0
    assert ex.drain_executions(trader)[-1].exec_type is ExecType.EXPIRED


def test_an_absolute_expiretm_is_unix_seconds_and_expires_before_the_next_order() -> None:
    ex = new_exchange()
    trader = funded(ex)
    expiry = str(T0 // SECOND + 30)
    bid = txid_of(order(ex, trader, "buy", "1", "49000.0", timeinforce="GTD", expiretm=expiry))
    assert ex.query_orders(trader, [bid])[0].timeinforce is TimeInForce.GTD

    order(ex, trader, "buy", "1", "48000.0", now=T0 + 31 * SECOND)  # time passes with it

    assert ex.query_orders(trader, [bid])[0].status is OrderStatus.EXPIRED


def test_cancel_by_cl_ord_id_and_a_duplicate_cl_ord_id_is_refused_while_open() -> None:
    ex = new_exchange()
    trader = funded(ex)
    first = txid_of(order(ex, trader, "buy", "1", "49000.0", cl_ord_id="grid-0001"))

    with pytest.raises(ExchangeError) as refused:
        order(ex, trader, "buy", "1", "48000.0", cl_ord_id="grid-0001")
    assert refused.value.kraken_error == "EOrder:Duplicate cl_ord_id"

    other = funded(ex)  # the id is unique per account only
    order(ex, other, "buy", "1", "48000.0", cl_ord_id="grid-0001")

    assert ex.cancel(trader, "grid-0001", T0 + 1) == 1
    assert ex.query_orders(trader, [first])[0].status is OrderStatus.CANCELED
    again = order(ex, trader, "buy", "1", "48000.0", cl_ord_id="grid-0001", now=T0 + 2)
    assert again.order is not None
    assert again.order.cl_ord_id == "grid-0001"


def test_cancel_by_userref_cancels_every_order_of_that_reference() -> None:
    ex = new_exchange()
    trader = funded(ex)
    order(ex, trader, "buy", "1", "49000.0", userref=7)
    order(ex, trader, "buy", "1", "48000.0", userref=7)
    keep = txid_of(order(ex, trader, "buy", "1", "47000.0", userref=8))

    assert ex.cancel(trader, 7, T0 + 1) == 2
    assert [o.txid for o in ex.open_orders(trader)] == [keep]


def test_cancelling_an_unknown_or_closed_order_is_refused() -> None:
    ex = new_exchange()
    trader = funded(ex)
    bid = txid_of(order(ex, trader, "buy", "1", "49000.0"))
    ex.cancel(trader, bid, T0)

    for ref in (bid, "OAAAAA-BBBBB-CCCCCC", "no-such-id", 99):
        with pytest.raises(ExchangeError) as refused:
            ex.cancel(trader, ref, T0 + 1)
        assert refused.value.kraken_error == "EOrder:Unknown order"


def test_an_account_cannot_cancel_another_accounts_order() -> None:
    ex = new_exchange()
    owner, intruder = funded(ex), funded(ex)
    bid = txid_of(order(ex, owner, "buy", "1", "49000.0", cl_ord_id="mine"))

    for ref in (bid, "mine"):
        with pytest.raises(ExchangeError, match="EOrder:Unknown order"):
            ex.cancel(intruder, ref, T0 + 1)
    with pytest.raises(ExchangeError, match="EOrder:Invalid order"):
        ex.query_orders(intruder, [bid])
    assert ex.open_orders(owner)[0].txid == bid


def test_cancel_all_cancels_every_open_order_of_the_account_only() -> None:
    ex = new_exchange()
    trader, other = funded(ex), funded(ex)
    order(ex, trader, "buy", "1", "49000.0")
    order(ex, trader, "sell", "1", "51000.0")
    order(ex, trader, "sell", "1", "52000.0", ordertype="take-profit")
    order(ex, other, "buy", "1", "48000.0")

    assert ex.cancel_all(trader, T0 + 1) == 3

    assert ex.open_orders(trader) == []
    assert len(ex.open_orders(other)) == 1
    assert ex.balances(trader)["XBT"].hold_trade == 0


def test_cancel_all_after_cancels_everything_when_the_timer_runs_out() -> None:
    ex = new_exchange()
    trader, other = funded(ex), funded(ex)
    order(ex, trader, "buy", "1", "49000.0")
    order(ex, other, "buy", "1", "48000.0")

    armed = ex.cancel_all_after(trader, 10, T0)
    assert (armed.current_ns, armed.trigger_ns) == (T0, T0 + 10 * SECOND)
    pushed = ex.cancel_all_after(trader, 10, T0 + 5 * SECOND)  # the client keeps it alive
    assert pushed.trigger_ns == T0 + 15 * SECOND

    ex.advance(T0 + 14 * SECOND)
    assert len(ex.open_orders(trader)) == 1

    ex.advance(T0 + 15 * SECOND)
    assert ex.open_orders(trader) == []
    (closed,) = ex.closed_orders(trader)
    assert (closed.status, closed.reason) == (
        OrderStatus.CANCELED,
        "Cancel all orders after timeout",
    )
    assert closed.closetm_ns == T0 + 15 * SECOND
    assert len(ex.open_orders(other)) == 1  # only the account's own orders

    # Once fired, the switch stays off until it is armed again.
    order(ex, trader, "buy", "1", "49000.0", now=T0 + 16 * SECOND)
    ex.advance(T0 + 100 * SECOND)
    assert len(ex.open_orders(trader)) == 1


def test_cancel_all_after_zero_disables_the_timer() -> None:
    ex = new_exchange()
    trader = funded(ex)
    order(ex, trader, "buy", "1", "49000.0")
    ex.cancel_all_after(trader, 10, T0)

    off = ex.cancel_all_after(trader, 0, T0 + 1 * SECOND)

    assert (off.current_ns, off.trigger_ns) == (T0 + SECOND, 0)
    ex.advance(T0 + 60 * SECOND)
    assert len(ex.open_orders(trader)) == 1
    for bad in (-1, 86_400, True):
        with pytest.raises(ExchangeError, match="EGeneral:Invalid arguments:timeout"):
            ex.cancel_all_after(trader, bad, T0 + 61 * SECOND)


def test_validate_checks_the_order_and_places_nothing() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex, usd="100000", xbt="0")
    order(ex, maker, "sell", "1", "50000.0")

    result = order(ex, trader, "buy", "1", "50000.0", validate=True)

    assert result.txid is None
    assert result.order is None
    assert result.descr_order == "buy 1.00000000 XBTUSD @ limit 50000.0"
    assert ex.open_orders(trader) == []
    assert ex.closed_orders(trader) == []
    assert ex.trades_history(trader) == []
    assert ex.balances(trader)["USD"].hold_trade == 0
    assert ex.drain_executions(trader) == []
    assert [lv.volume for lv in ex.depth("XBTUSD").asks] == [D("1")]
    with pytest.raises(ExchangeError, match="EOrder:Insufficient funds"):
        order(ex, trader, "buy", "3", "50000.0", validate=True)
    with pytest.raises(ExchangeError, match="EOrder:Tick size check failed"):
        order(ex, trader, "buy", "1", "50000.05", validate=True)


def test_the_execution_stream_reports_each_step_of_an_order() -> None:
    ex = new_exchange()
    maker = funded(ex)
    trader = funded(ex)
    ask = txid_of(order(ex, maker, "sell", "1", "50000.0"))
    ex.drain_executions(maker)

    order(ex, trader, "buy", "0.4", now=T0 + 1)
    order(ex, trader, "buy", "0.6", now=T0 + 2)

    events = ex.drain_executions(maker)
    assert [e.exec_type for e in events] == [ExecType.TRADE, ExecType.TRADE, ExecType.FILLED]
    assert all(e.order.txid == ask for e in events)
    assert [e.order.vol_exec for e in events] == [D("0.4"), D("1"), D("1")]
    assert events[0].trade is not None
    assert events[0].trade.vol == D("0.4")
    assert events[-1].order.status is OrderStatus.CLOSED
    taker_events = [e.exec_type for e in ex.drain_executions(trader)]
    assert (
        taker_events
        == [
            ExecType.PENDING_NEW,
            ExecType.NEW,
            ExecType.TRADE,
            ExecType.FILLED,
        ]
        * 2
    )
    assert ex.drain_executions(trader) == []  # drained


def test_histories_keep_only_the_most_recent_entries() -> None:
    ex = new_exchange(history_limit=2, event_limit=3)
    trader = funded(ex)
    txids = [txid_of(order(ex, trader, "buy", "1", f"4900{i}.0")) for i in range(3)]
    ex.cancel_all(trader, T0 + 1)

    assert [o.txid for o in ex.closed_orders(trader)] == [txids[2], txids[1]]
    with pytest.raises(ExchangeError, match="EOrder:Invalid order"):
        ex.query_orders(trader, [txids[0]])
    events = ex.drain_executions(trader)
    assert [e.exec_type for e in events] == [ExecType.CANCELED] * 3
