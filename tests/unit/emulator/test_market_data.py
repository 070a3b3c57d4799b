"""Public market data: the depth snapshot, the trade tape with its ``since`` cursor, the last
price, and the accounts' credentials."""

from __future__ import annotations

import base64
import re

import pytest

from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.exchange.orders import OrderType, Side
from tests.unit.emulator.exchange_helpers import T0, D, funded, new_exchange, order


def test_depth_aggregates_levels_best_first_and_honours_count() -> None:
    ex = new_exchange()
    maker = funded(ex)
    order(ex, maker, "sell", "1", "50002.0")
    order(ex, maker, "sell", "1", "50001.0", now=T0 + 1)
    order(ex, maker, "sell", "0.5", "50001.0", now=T0 + 2)
    order(ex, maker, "buy", "2", "49999.0")
    order(ex, maker, "buy", "3", "49998.0")

    depth = ex.depth("XBTUSD", count=1)

    assert [(lv.price, lv.volume, lv.updated_ns) for lv in depth.asks] == [
        (D("50001.0"), D("1.5"), T0 + 2)
    ]
    assert [(lv.price, lv.volume) for lv in depth.bids] == [(D("49999.0"), D("2"))]
    full = ex.depth("XBTUSD")
    assert [lv.price for lv in full.asks] == [D("50001.0"), D("50002.0")]
    assert [lv.price for lv in full.bids] == [D("49999.0"), D("49998.0")]
    for bad in (0, 501):
        with pytest.raises(ExchangeError, match="EGeneral:Invalid arguments:count"):
            ex.depth("XBTUSD", count=bad)
    with pytest.raises(ExchangeError, match="EQuery:Unknown asset pair"):
        ex.depth("XBTEUR")


def test_recent_trades_page_forward_with_a_since_cursor() -> None:
    ex = new_exchange()
    maker = funded(ex)
    order(ex, maker, "sell", "1", "50000.0")
    order(ex, maker, "sell", "1", "50001.0")
    order(ex, maker, "sell", "1", "50002.0")
    order(ex, funded(ex), "buy", "2.5", now=T0 + 10)  # three trades in one instant

    trades, cursor = ex.recent_trades("XBTUSD")

    assert [(t.price, t.volume) for t in trades] == [
        (D("50000.0"), D("1")),
        (D("50001.0"), D("1")),
        (D("50002.0"), D("0.5")),
    ]
    # Times strictly increase so that a cursor never splits trades of the same instant.
    assert [t.time_ns for t in trades] == [T0 + 10, T0 + 11, T0 + 12]
    assert [t.trade_id for t in trades] == [1, 2, 3]
    assert all(t.side is Side.BUY and t.ordertype is OrderType.MARKET for t in trades)
    assert cursor == T0 + 12

    assert ex.recent_trades("XBTUSD", since_ns=cursor) == ([], cursor)
    later, _ = ex.recent_trades("XBTUSD", since_ns=T0 + 10)
    assert [t.trade_id for t in later] == [2, 3]
    first, cursor = ex.recent_trades("XBTUSD", since_ns=0, count=1)
    assert ([t.trade_id for t in first], cursor) == ([1], T0 + 10)

    order(ex, funded(ex), "buy", "0.1", "50002.0", now=T0 + 20)  # takes the 50002.0 ask
    newer, cursor = ex.recent_trades("XBTUSD", since_ns=T0 + 12)
    assert [(t.trade_id, t.time_ns) for t in newer] == [(4, T0 + 20)]
    assert ex.last_price("XBTUSD") == D("50002.0")
    assert ex.last_price("ETHUSD") is None


def test_the_tape_remembers_only_its_limit() -> None:
    ex = new_exchange(tape_limit=2)
    maker = funded(ex)
    for i in range(3):
        order(ex, maker, "sell", "0.01", "50000.0", now=T0 + i)
        order(ex, funded(ex), "buy", "0.01", now=T0 + i)

    trades, _ = ex.recent_trades("XBTUSD")

    assert [t.trade_id for t in trades] == [2, 3]


def test_public_trades_drain_once_per_pair() -> None:
    ex = new_exchange()
    seller, _ = ex.create_account({"ETH": D("1")})
    order(ex, seller, "sell", "1", "3000.00", pair="ETHUSD")
    order(ex, funded(ex), "buy", "0.5", pair="ETHUSD")

    (trade,) = ex.drain_public_trades("ETHUSD")

    assert (trade.pair, trade.price, trade.volume) == ("ETHUSD", D("3000.00"), D("0.5"))
    assert ex.drain_public_trades("ETHUSD") == []
    assert ex.drain_public_trades("XBTUSD") == []


def test_pairs_settle_in_their_own_base_asset() -> None:
    ex = new_exchange()
    seller, _ = ex.create_account({"ETH": D("10")})
    buyer = funded(ex)
    order(ex, seller, "sell", "2", "3000.00", pair="ETHUSD")
    order(ex, buyer, "buy", "2", "3000.00", pair="ETHUSD")

    assert ex.balances(seller)["ETH"].balance == D("8")
    assert ex.balances(seller)["USD"].balance == D("5985")  # 6000 - 0.25 % maker fee
    assert ex.balances(buyer)["ETH"].balance == D("2")
    assert ex.balances(buyer)["XBT"].balance == D("100")


def test_credentials_look_like_krakens() -> None:
    ex = new_exchange()
    key, secret = ex.create_account({"USD": D("1")})

    assert re.fullmatch(r"[A-Za-z0-9_-]{56}", key)
    assert len(base64.b64decode(secret, validate=True)) == 64
    assert ex.accounts.secret_for(key) == base64.b64decode(secret)
    assert ex.accounts.secret_for("unknown") is None
    other, _ = ex.create_account({"USD": D("1")})
    assert other != key


@pytest.mark.parametrize(
    "balances",
    [{"USD": D("-1")}, {"USD": D("NaN")}, {"USD": 5}, {"": D("1")}],
)
def test_accounts_refuse_impossible_balances(balances: dict[str, object]) -> None:
    ex = new_exchange()
    with pytest.raises(ValueError, match="must"):
        ex.create_account(balances)  # type: ignore[arg-type]
