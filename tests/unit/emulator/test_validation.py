"""AddOrder is refused with Kraken's exact error strings, and relative prices resolve."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.exchange.matching import Exchange
from aether.emulator.exchange.orders import OrderRequest, OrderStatus
from tests.unit.emulator.exchange_helpers import T0, D, funded, new_exchange, order, txid_of


def refusal(**fields: object) -> str:
    ex = new_exchange()
    trader = funded(ex)
    request = {"pair": "XBTUSD", "side": "buy", "ordertype": "limit", "volume": "1"}
    request["price"] = "50000.0"
    request.update(fields)  # type: ignore[arg-type]
    with pytest.raises(ExchangeError) as refused:
        ex.place(trader, OrderRequest(**request), T0)  # type: ignore[arg-type]
    assert str(refused.value) == refused.value.kraken_error
    return refused.value.kraken_error


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"pair": "DOGEEUR"}, "EQuery:Unknown asset pair"),
        ({"volume": "0.00009"}, "EOrder:Order minimum not met"),  # ordermin 0.0001
        ({"volume": "0.0001", "price": "4000.0"}, "EOrder:Cost minimum not met"),  # 0.4 < 0.5
        ({"price": "50000.05"}, "EOrder:Tick size check failed"),  # tick 0.1
        ({"price": "50000.01"}, "EOrder:Tick size check failed"),
        ({"volume": "abc"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "1e3"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "-1"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "0"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": " 1"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "NaN"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": Decimal("Infinity")}, "EGeneral:Invalid arguments:volume"),
        ({"volume": 1.5}, "EGeneral:Invalid arguments:volume"),  # floats are not money
        ({"volume": "0.000000001"}, "EGeneral:Invalid arguments:volume"),  # 9 decimals
        ({"price": "fifty"}, "EGeneral:Invalid arguments:price"),
        ({"price": "0"}, "EGeneral:Invalid arguments:price"),
        ({"price": None}, "EGeneral:Invalid arguments:price"),
        ({"side": "hold"}, "EGeneral:Invalid arguments:type"),
        ({"ordertype": "iceberg"}, "EGeneral:Invalid arguments:ordertype"),
        ({"ordertype": "stop-loss-limit", "price": "49000.0"}, "EGeneral:Invalid arguments:price2"),
        ({"timeinforce": "FOK"}, "EGeneral:Invalid arguments:timeinforce"),
        ({"timeinforce": "GTD"}, "EGeneral:Invalid arguments:expiretm"),
        ({"timeinforce": "GTD", "expiretm": "+4"}, "EGeneral:Invalid arguments:expiretm"),
        ({"expiretm": str(T0 // 10**9 - 1)}, "EGeneral:Invalid arguments:expiretm"),
        ({"expiretm": "+3000000"}, "EGeneral:Invalid arguments:expiretm"),  # over a month
        ({"oflags": "post,bogus"}, "EGeneral:Invalid arguments:oflags"),
        ({"oflags": "fcib,fciq"}, "EGeneral:Invalid arguments:oflags"),
        ({"oflags": "post", "ordertype": "market"}, "EGeneral:Invalid arguments:oflags"),
        ({"oflags": "post", "timeinforce": "IOC"}, "EGeneral:Invalid arguments:timeinforce"),
        ({"oflags": "viqc"}, "EGeneral:Invalid arguments:viqc"),
        ({"userref": 2**31}, "EGeneral:Invalid arguments:userref"),
        ({"cl_ord_id": "x" * 19}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"cl_ord_id": "has space"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"cl_ord_id": "ok", "userref": 1}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"stptype": "cancel-all"}, "EGeneral:Invalid arguments:stptype"),
        ({"oflags": None}, "EGeneral:Invalid arguments:oflags"),
        ({"cl_ord_id": 12345}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"userref": "12"}, "EGeneral:Invalid arguments:userref"),
        ({"side": None}, "EGeneral:Invalid arguments:type"),
        (
            {"trigger": "index", "ordertype": "stop-loss"},
            "EGeneral:Invalid arguments:Index unavailable",
        ),
        ({"trigger": "mark"}, "EGeneral:Invalid arguments:trigger"),
        ({"price": "+10"}, "EOrder:Invalid price"),  # relative, but nothing has traded
        ({"ordertype": "trailing-stop", "price": "100.0"}, "EGeneral:Invalid arguments:price"),
        ({"ordertype": "trailing-stop", "price": "+100.05"}, "EOrder:Tick size check failed"),
        ({"ordertype": "trailing-stop", "price": "+100.0"}, "EOrder:Invalid price"),  # no trade
    ],
)
def test_refusals_use_krakens_error_strings(fields: dict[str, object], error: str) -> None:
    assert refusal(**fields) == error


def test_accepted_cl_ord_id_formats() -> None:
    ex = new_exchange()
    trader = funded(ex)
    for cl_ord_id in (
        "6d1b345e-2821-40e2-ad83-4ecb18a06876",
        "da8e4ad59b78481c93e589746b0cf91f",
        "arb-20240509-00010",
    ):
        result = order(ex, trader, "buy", "1", "40000.0", cl_ord_id=cl_ord_id)
        assert result.order is not None
        assert result.order.cl_ord_id == cl_ord_id


def test_an_unknown_account_is_an_invalid_key() -> None:
    ex = new_exchange()
    with pytest.raises(ExchangeError, match="EAPI:Invalid key"):
        order(ex, "not-a-key", "buy", "1", "50000.0")
    with pytest.raises(ExchangeError, match="EAPI:Invalid key"):
        ex.open_orders("not-a-key")


def test_txids_and_descriptions_have_krakens_shape() -> None:
    ex = new_exchange()
    trader = funded(ex)
    result = order(ex, trader, "sell", "0.5", "51000.0")

    assert re.fullmatch(r"O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}", txid_of(result))
    assert result.descr_order == "sell 0.50000000 XBTUSD @ limit 51000.0"
    stop = order(ex, trader, "sell", "0.1", "45000.0", "stop-loss-limit", price2="44900.0")
    assert stop.descr_order == "sell 0.10000000 XBTUSD @ stop loss 45000.0 -> limit 44900.0"
    assert order(ex, trader, "buy", "0.01").descr_order == "buy 0.01000000 XBTUSD @ market"


def seed_last_price(ex_price: str = "50000.0") -> tuple[Exchange, str]:
    ex = new_exchange()
    maker, taker = funded(ex), funded(ex)
    order(ex, maker, "sell", "0.01", ex_price)
    order(ex, taker, "buy", "0.01")
    return ex, funded(ex)


@pytest.mark.parametrize(
    ("side", "ordertype", "price", "expected"),
    [
        ("buy", "limit", "-100", "49900.0"),
        ("buy", "limit", "+1%", "50500.0"),
        ("buy", "limit", "#1.5%", "49250.0"),  # away from the market: down for a buy
        ("sell", "limit", "#100", "50100.0"),
        ("sell", "stop-loss", "#2%", "49000.0"),  # a sell stop sits below the market
        ("buy", "stop-loss", "#2%", "51000.0"),
        ("sell", "take-profit", "#2%", "51000.0"),
        ("buy", "limit", "-0.33%", "49835.0"),  # 49835 exactly: on the tick
        ("buy", "limit", "-0.333%", "49833.5"),  # 49833.5 exactly
        ("buy", "limit", "-0.3333%", "49833.4"),  # 49833.35 rounds half to even
    ],
)
def test_relative_prices_resolve_against_the_last_trade(
    side: str, ordertype: str, price: str, expected: str
) -> None:
    ex, trader = seed_last_price()
    result = order(ex, trader, side, "0.01", price, ordertype)
    assert result.order is not None
    assert Decimal(result.order.descr_price) == D(expected)


def test_a_market_order_below_costmin_at_the_best_price_is_refused() -> None:
    ex = new_exchange()
    order(ex, funded(ex), "sell", "1", "4000.0")
    with pytest.raises(ExchangeError, match="EOrder:Cost minimum not met"):
        order(ex, funded(ex), "buy", "0.0001")  # 0.4 USD at the best ask


def test_a_relative_limit_crosses_like_an_absolute_one() -> None:
    ex, trader = seed_last_price()
    order(ex, funded(ex), "sell", "1", "50050.0")
    result = order(ex, trader, "buy", "1", "+0.1%")  # 50050.0
    assert result.order is not None
    assert result.order.status is OrderStatus.CLOSED
