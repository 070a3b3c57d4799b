"""Stop-loss, take-profit and trailing stops fire on the pair's last trade price."""

from __future__ import annotations

from aether.emulator.exchange.matching import Exchange
from aether.emulator.exchange.orders import ExecType, OrderStatus, OrderType
from tests.unit.emulator.exchange_helpers import T0, D, funded, new_exchange, order, txid_of


def print_trade(ex: Exchange, price: str, now: int = T0, volume: str = "0.01") -> None:
    """Make one trade print at ``price`` between two bystanders (orders it fires may trade
    after it)."""
    maker, taker = funded(ex), funded(ex)
    order(ex, maker, "sell", volume, price, now=now)
    order(ex, taker, "buy", volume, price, now=now)
    assert ex.trades_history(taker)[0].price == D(price)


def test_a_stop_loss_fires_on_a_trade_at_its_trigger_and_sells_at_market() -> None:
    ex = new_exchange()
    bids = funded(ex)
    holder = funded(ex, usd="0", xbt="1")
    stop = txid_of(order(ex, holder, "sell", "1", "49000.0", "stop-loss"))
    assert ex.balances(holder)["XBT"].hold_trade == D("1")

    print_trade(ex, "49000.1")  # above the trigger: nothing happens
    assert ex.query_orders(holder, [stop])[0].vol_exec == 0

    order(ex, bids, "buy", "0.5", "49000.0")
    order(ex, bids, "buy", "2", "48900.0")
    seller = funded(ex)
    order(ex, seller, "sell", "0.1", now=T0 + 1)  # prints at 49000.0: the trigger

    info = ex.query_orders(holder, [stop])[0]
    assert info.status is OrderStatus.CLOSED
    assert info.misc == ("stopped",)
    assert info.vol_exec == D("1")
    assert info.cost == D("0.4") * D("49000.0") + D("0.6") * D("48900.0")
    assert info.stopprice == D("49000.0")
    assert ex.balances(holder)["XBT"].balance == 0
    assert ex.last_price("XBTUSD") == D("48900.0")
    events = [e.exec_type for e in ex.drain_executions(holder)]
    assert ExecType.STATUS in events
    assert events[-1] is ExecType.FILLED


def test_a_stop_loss_fires_on_a_trade_below_its_trigger_within_a_sweep() -> None:
    ex = new_exchange()
    bids = funded(ex)
    holder = funded(ex, usd="0", xbt="1")
    stop = txid_of(order(ex, holder, "sell", "1", "48950.0", "stop-loss"))
    order(ex, bids, "buy", "0.1", "49000.0")
    order(ex, bids, "buy", "0.1", "48900.0")
    order(ex, bids, "buy", "5", "48000.0")

    order(ex, funded(ex), "sell", "0.2", now=T0 + 1)  # prints 49000.0 then 48900.0

    info = ex.query_orders(holder, [stop])[0]
    assert (info.status, info.vol_exec) == (OrderStatus.CLOSED, D("1"))
    assert info.price == D("48000.0")


def test_a_buy_stop_fires_on_a_trade_at_or_above_its_trigger() -> None:
    ex = new_exchange()
    trader = funded(ex)
    order(ex, funded(ex), "sell", "5", "51000.0")
    buy_stop = txid_of(order(ex, trader, "buy", "1", "51000.0", "stop-loss"))

    print_trade(ex, "50999.9", now=T0 + 1)
    assert ex.query_orders(trader, [buy_stop])[0].status is OrderStatus.OPEN
    print_trade(ex, "51000.0", now=T0 + 2)

    info = ex.query_orders(trader, [buy_stop])[0]
    assert (info.status, info.misc, info.price) == (OrderStatus.CLOSED, ("stopped",), D("51000.0"))


def test_a_take_profit_sell_fires_on_a_trade_at_or_above_its_price() -> None:
    ex = new_exchange()
    holder = funded(ex, usd="0", xbt="1")
    order(ex, funded(ex), "buy", "2", "51400.0")
    take = txid_of(order(ex, holder, "sell", "1", "51500.0", "take-profit"))

    print_trade(ex, "51499.9", now=T0 + 1)
    assert ex.query_orders(holder, [take])[0].status is OrderStatus.OPEN
    print_trade(ex, "51500.0", now=T0 + 2)

    info = ex.query_orders(holder, [take])[0]
    assert (info.status, info.misc, info.price) == (OrderStatus.CLOSED, ("touched",), D("51400.0"))


def test_a_stop_loss_limit_becomes_a_resting_limit_once_fired() -> None:
    ex = new_exchange()
    bids = funded(ex)
    holder = funded(ex, usd="0", xbt="1")
    stop = txid_of(order(ex, holder, "sell", "1", "49000.0", "stop-loss-limit", price2="48950.0"))
    order(ex, bids, "buy", "0.3", "49000.0")
    order(ex, bids, "buy", "5", "48900.0")

    order(ex, funded(ex), "sell", "0.1", now=T0 + 1)  # prints 49000.0

    info = ex.query_orders(holder, [stop])[0]
    assert (info.status, info.vol_exec) == (OrderStatus.OPEN, D("0.2"))
    assert info.limitprice == D("48950.0")
    asks = ex.depth("XBTUSD").asks
    assert [(lv.price, lv.volume) for lv in asks] == [(D("48950.0"), D("0.8"))]


def test_a_trailing_stop_follows_the_peak_and_fires_on_the_pullback() -> None:
    ex = new_exchange()
    holder = funded(ex, usd="0", xbt="1")
    print_trade(ex, "50000.0")
    trail = txid_of(order(ex, holder, "sell", "1", "+100.0", "trailing-stop", now=T0 + 1))
    assert ex.query_orders(holder, [trail])[0].stopprice == D("49900.0")
    assert ex.query_orders(holder, [trail])[0].descr_price == "+100.0"

    print_trade(ex, "50500.0", now=T0 + 2)  # a new peak pulls the stop up
    assert ex.query_orders(holder, [trail])[0].stopprice == D("50400.0")

    bids = funded(ex)
    order(ex, bids, "buy", "1", "50400.0", now=T0 + 3)
    order(ex, bids, "buy", "1", "50300.0", now=T0 + 3)
    print_trade(ex, "50450.0", now=T0 + 4)  # a pullback short of the offset
    assert ex.query_orders(holder, [trail])[0].status is OrderStatus.OPEN

    order(ex, funded(ex), "sell", "0.01", now=T0 + 5)  # prints 50400.0: 100 below the peak

    info = ex.query_orders(holder, [trail])[0]
    assert (info.status, info.vol_exec) == (OrderStatus.CLOSED, D("1"))
    assert info.cost == D("0.99") * D("50400.0") + D("0.01") * D("50300.0")


def test_a_percent_trailing_buy_stop_follows_the_trough() -> None:
    ex = new_exchange()
    trader = funded(ex)
    print_trade(ex, "50000.0")
    trail = txid_of(order(ex, trader, "buy", "1", "+1%", "trailing-stop", now=T0 + 1))
    assert ex.query_orders(trader, [trail])[0].stopprice == D("50500")
    # The buy holds quote at its initial stop: the stop only ever moves down.
    assert ex.balances(trader)["USD"].hold_trade == D("50500") * D("1.004")

    print_trade(ex, "49000.0", now=T0 + 2)
    assert ex.query_orders(trader, [trail])[0].stopprice == D("49490")
    print_trade(ex, "49489.9", now=T0 + 3)
    assert ex.query_orders(trader, [trail])[0].status is OrderStatus.OPEN

    order(ex, funded(ex), "sell", "2", "49500.0", now=T0 + 4)
    print_trade(ex, "49490.0", now=T0 + 5)  # 1 % above the trough: buys the 49500.0 ask

    info = ex.query_orders(trader, [trail])[0]
    assert (info.status, info.ordertype) == (OrderStatus.CLOSED, OrderType.TRAILING_STOP)
    assert info.price == D("49500.0")


def test_a_trailing_stop_limit_places_its_limit_offset_from_the_final_stop() -> None:
    ex = new_exchange()
    holder = funded(ex, usd="0", xbt="1")
    print_trade(ex, "50000.0")
    trail = txid_of(
        order(ex, holder, "sell", "1", "+200.0", "trailing-stop-limit", price2="-50.0", now=T0 + 1)
    )
    print_trade(ex, "50300.0", now=T0 + 2)  # stop 50100.0, limit will be 50050.0
    print_trade(ex, "50100.0", now=T0 + 3)

    info = ex.query_orders(holder, [trail])[0]
    assert info.status is OrderStatus.OPEN
    assert info.limitprice == D("50050.0")
    assert [lv.price for lv in ex.depth("XBTUSD").asks] == [D("50050.0")]


def test_a_stop_already_through_fires_as_soon_as_it_is_placed() -> None:
    ex = new_exchange()
    print_trade(ex, "48000.0")
    order(ex, funded(ex), "buy", "1", "47900.0")
    holder = funded(ex, usd="0", xbt="1")

    result = order(ex, holder, "sell", "1", "49000.0", "stop-loss", now=T0 + 1)

    assert result.order is not None
    assert result.order.status is OrderStatus.CLOSED
    assert result.order.price == D("47900.0")


def test_a_cancelled_stop_never_fires() -> None:
    ex = new_exchange()
    holder = funded(ex, usd="0", xbt="1")
    stop = txid_of(order(ex, holder, "sell", "1", "49000.0", "stop-loss"))
    ex.cancel(holder, stop, T0)
    order(ex, funded(ex), "buy", "1", "48000.0")

    print_trade(ex, "48500.0", now=T0 + 1)

    assert ex.query_orders(holder, [stop])[0].vol_exec == 0
    assert ex.balances(holder)["XBT"] == type(ex.balances(holder)["XBT"])(D("1"), D("0"))
