"""Third-party Kraken clients from PyPI against the emulator, unmodified: only their base URL
is changed (and ccxt's client-side rate limiter is switched off).

- ccxt's ``kraken`` exchange builds ``<urls.api.public|private>/0/<public|private>/<Method>``
  itself, so its base URL is the emulator's root, without ``/0``.
- python-kraken-sdk's ``Market``/``User``/``Trade`` join ``/0/...`` onto ``url`` as well.
  Its nonces are ``time * 1e8`` (about 100,000 times a millisecond nonce), so each client
  gets its own emulated account and key: a key once used by it refuses smaller nonces.
- Its ``create_order(truncate=True)`` asks ``https://api.kraken.com`` for the pair (an
  internal ``Market()`` without the caller's URL), so the tests pass exact strings instead.

Each client: markets / asset pairs, ticker, OHLC, order book, balance, a limit order far
from the market placed, queried and cancelled, a market order that fills and shows in the
trades history, and Kraken's error strings arriving as the client's own exceptions.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]
import pytest
from kraken.exceptions import (
    KrakenInsufficientFundsError,
    KrakenInvalidAPIKeyError,
    KrakenUnknownOrderError,
)
from kraken.spot import Market, Trade, User

from tests.integration.emulator.conftest import Emulator, Kraken

VOLUME = "0.001"
UNKNOWN_TXID = "OAAAAA-BBBBB-CCCCCC"
FAKE_SECRET = "c2VjcmV0LXRoYXQtbm8tYWNjb3VudC1oYXM="


@pytest.fixture(autouse=True)
def _own_decimal_context() -> Iterator[None]:
    # ccxt sets the thread's decimal context (rounding half-up, traps) for the whole process;
    # give each test a copy so later tests see the default context again.
    with decimal.localcontext():
        yield


def far_below(bid: float | str) -> str:
    """A buy price far below the market (a fifth of the bid) on XBTUSD's 0.1 tick."""
    price = Decimal(str(bid)) / 5
    return str(price.quantize(Decimal("0.1"), rounding=ROUND_DOWN))


# --- ccxt ---------------------------------------------------------------------------------


def ccxt_client(emulator: Emulator, key: str, secret: str) -> ccxt.kraken:
    exchange = ccxt.kraken({"apiKey": key, "secret": secret, "enableRateLimit": False})
    exchange.urls["api"]["public"] = emulator.url
    exchange.urls["api"]["private"] = emulator.url
    return exchange


@pytest.fixture
def make_ccxt(emulator: Emulator) -> Iterator[Callable[..., ccxt.kraken]]:
    """A ccxt client on a new account funded with ``balances``."""
    clients: list[ccxt.kraken] = []

    def make(**balances: str) -> ccxt.kraken:
        account: Kraken = emulator.account(**balances)
        clients.append(ccxt_client(emulator, account.key, account.secret))
        return clients[-1]

    yield make
    for client in clients:
        client.session.close()


def test_ccxt_market_data(make_ccxt: Callable[..., ccxt.kraken]) -> None:
    ex = make_ccxt()
    markets = ex.load_markets()
    btc = markets["BTC/USD"]
    assert (btc["id"], btc["altname"], btc["base"], btc["quote"]) == (
        "XXBTZUSD",
        "XBTUSD",
        "BTC",
        "USD",
    )
    assert btc["spot"]
    assert btc["active"]
    assert btc["precision"]["price"] == pytest.approx(0.1)
    assert btc["limits"]["amount"]["min"] > 0
    assert "ETH/USD" in markets
    assert {"BTC", "USD", "ETH"} <= set(ex.currencies)

    ticker = ex.fetch_ticker("BTC/USD")
    assert 0 < ticker["bid"] < ticker["ask"]
    assert ticker["last"] > 0
    assert ticker["baseVolume"] >= 0

    candles = ex.fetch_ohlcv("BTC/USD", "1m")
    assert candles
    for start, open_, high, low, close, volume in candles:
        assert start % 60_000 == 0
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert volume >= 0

    book = ex.fetch_order_book("BTC/USD", 5)
    bids, asks = book["bids"], book["asks"]
    assert 0 < len(bids) <= 5
    assert 0 < len(asks) <= 5
    assert bids[0][0] < asks[0][0]
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True)
    assert [a[0] for a in asks] == sorted(a[0] for a in asks)

    trades = ex.fetch_trades("BTC/USD", limit=5)
    assert trades
    assert all(t["symbol"] == "BTC/USD" and t["price"] > 0 for t in trades)


def test_ccxt_balance(make_ccxt: Callable[..., ccxt.kraken]) -> None:
    ex = make_ccxt(USD="10000", XBT="0.5")
    balance = ex.fetch_balance()
    assert balance["total"]["USD"] == pytest.approx(10_000)
    assert balance["total"]["BTC"] == pytest.approx(0.5)
    assert balance["free"]["USD"] == pytest.approx(10_000)
    assert balance["used"]["USD"] == pytest.approx(0)


def test_ccxt_limit_order_placed_queried_cancelled(make_ccxt: Callable[..., ccxt.kraken]) -> None:
    ex = make_ccxt(USD="10000")
    ex.load_markets()
    price = far_below(ex.fetch_ticker("BTC/USD")["bid"])
    placed = ex.create_order("BTC/USD", "limit", "buy", float(VOLUME), float(price))
    order_id = placed["id"]
    assert order_id

    order = ex.fetch_order(order_id, "BTC/USD")
    assert (order["status"], order["side"], order["type"]) == ("open", "buy", "limit")
    assert order["price"] == pytest.approx(float(price))
    assert order["amount"] == pytest.approx(float(VOLUME))
    assert order["filled"] == pytest.approx(0)
    assert order["remaining"] == pytest.approx(float(VOLUME))
    assert order_id in {o["id"] for o in ex.fetch_open_orders("BTC/USD")}
    assert ex.fetch_balance()["used"]["USD"] > 0  # the order holds its cost

    ex.cancel_order(order_id, "BTC/USD")
    assert ex.fetch_order(order_id, "BTC/USD")["status"] == "canceled"
    assert order_id not in {o["id"] for o in ex.fetch_open_orders("BTC/USD")}
    assert order_id in {o["id"] for o in ex.fetch_closed_orders("BTC/USD")}
    assert ex.fetch_balance()["used"]["USD"] == pytest.approx(0)


def test_ccxt_market_order_fills(make_ccxt: Callable[..., ccxt.kraken]) -> None:
    ex = make_ccxt(USD="10000")
    ex.load_markets()
    order_id = ex.create_order("BTC/USD", "market", "buy", float(VOLUME))["id"]

    order = ex.fetch_order(order_id, "BTC/USD")
    assert order["status"] == "closed"
    assert order["filled"] == pytest.approx(float(VOLUME))
    assert order["average"] > 0
    assert order["fee"]["cost"] is not None

    mine = [t for t in ex.fetch_my_trades("BTC/USD") if t["order"] == order_id]
    assert len(mine) >= 1
    assert sum(t["amount"] for t in mine) == pytest.approx(float(VOLUME))
    assert all(t["side"] == "buy" and t["takerOrMaker"] == "taker" for t in mine)
    assert all(t["fee"]["currency"] == "USD" and t["fee"]["cost"] > 0 for t in mine)

    balance = ex.fetch_balance()
    assert balance["total"]["BTC"] == pytest.approx(float(VOLUME))
    spent = sum(t["cost"] + t["fee"]["cost"] for t in mine)
    assert balance["total"]["USD"] == pytest.approx(10_000 - spent, abs=1e-3)


def test_ccxt_errors_are_its_own_exceptions(
    emulator: Emulator, make_ccxt: Callable[..., ccxt.kraken]
) -> None:
    ex = make_ccxt(USD="1")
    ex.load_markets()
    price = far_below(ex.fetch_ticker("BTC/USD")["bid"])
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USD", "limit", "buy", 0.01, float(price))
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order(UNKNOWN_TXID, "BTC/USD")
    stranger = ccxt_client(emulator, "no-such-key", FAKE_SECRET)
    try:
        with pytest.raises(ccxt.AuthenticationError):
            stranger.fetch_balance()
    finally:
        stranger.session.close()


# --- python-kraken-sdk --------------------------------------------------------------------


@pytest.fixture
def sdk_user_trade(emulator: Emulator) -> Callable[..., tuple[User, Trade]]:
    """A ``User`` and a ``Trade`` client on a new account; each key is used by one client
    only, as the SDK's own nonces must increase per key."""

    def make(**balances: str) -> tuple[User, Trade]:
        account: Kraken = emulator.account(**balances)
        user = User(key=account.key, secret=account.secret, url=emulator.url)
        trade = Trade(key=account.key, secret=account.secret, url=emulator.url)
        return user, trade

    return make


def _one(result: dict[str, Any]) -> Any:
    """The single pair-keyed entry of a market-data answer (besides ``last``)."""
    (key,) = (k for k in result if k != "last")
    assert key == "XXBTZUSD"
    return result[key]


def test_sdk_market_data(emulator: Emulator) -> None:
    market = Market(url=emulator.url)
    pairs = market.get_asset_pairs()
    assert pairs["XXBTZUSD"]["altname"] == "XBTUSD"
    assert pairs["XXBTZUSD"]["wsname"] == "XBT/USD"
    assert {p["altname"] for p in pairs.values()} >= {"XBTUSD", "ETHUSD"}
    assert set(market.get_asset_pairs(pair="XBTUSD")) == {"XXBTZUSD"}
    assert "XXBT" in market.get_assets()
    assert market.get_system_status()["status"] == "online"

    ticker = _one(market.get_ticker(pair="XBTUSD"))
    assert 0 < Decimal(ticker["b"][0]) < Decimal(ticker["a"][0])
    assert Decimal(ticker["c"][0]) > 0

    ohlc = market.get_ohlc(pair="XBTUSD", interval=1)
    rows = _one(ohlc)
    assert rows
    assert isinstance(ohlc["last"], int)
    for start, open_, high, low, close, vwap, volume, count in rows:
        assert start % 60 == 0
        assert count >= 0
        assert Decimal(low) <= min(Decimal(open_), Decimal(close)) <= Decimal(high)
        assert Decimal(low) <= Decimal(vwap) <= Decimal(high)
        assert Decimal(volume) >= 0

    book = _one(market.get_order_book(pair="XBTUSD", count=5))
    assert 0 < len(book["bids"]) <= 5
    assert 0 < len(book["asks"]) <= 5
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])

    trades = market.get_recent_trades(pair="XBTUSD")
    assert _one(trades)
    assert int(trades["last"]) > 0


def test_sdk_balance(sdk_user_trade: Callable[..., tuple[User, Trade]]) -> None:
    user, _ = sdk_user_trade(USD="10000", XBT="0.5")
    assert user.get_account_balance() == {"ZUSD": "10000.0000", "XXBT": "0.5000000000"}
    extended = user.get_balances()
    assert extended["ZUSD"] == {"balance": "10000.0000", "hold_trade": "0.0000"}
    usd = user.get_balance(currency="USD")
    assert usd["balance"] == pytest.approx(10_000)
    assert usd["available_balance"] == pytest.approx(10_000)


def test_sdk_limit_order_placed_queried_cancelled(
    emulator: Emulator, sdk_user_trade: Callable[..., tuple[User, Trade]]
) -> None:
    user, trade = sdk_user_trade(USD="10000")
    bid = _one(Market(url=emulator.url).get_ticker(pair="XBTUSD"))["b"][0]
    price = far_below(bid)
    placed = trade.create_order(
        ordertype="limit", side="buy", pair="XBTUSD", volume=VOLUME, price=price, userref=7
    )
    (txid,) = placed["txid"]
    assert placed["descr"]["order"].startswith(f"buy {VOLUME}")

    opened = user.get_open_orders()["open"]
    assert txid in opened
    assert opened[txid]["descr"]["pair"] == "XBTUSD"
    assert Decimal(opened[txid]["descr"]["price"]) == Decimal(price)
    assert set(user.get_open_orders(userref=7)["open"]) == {txid}

    info = user.get_orders_info(txid=txid)[txid]
    assert (info["status"], info["userref"]) == ("open", 7)
    assert Decimal(info["vol"]) == Decimal(VOLUME)
    assert Decimal(info["vol_exec"]) == 0
    available = Decimal(str(user.get_balance(currency="USD")["available_balance"]))
    assert available < 10_000  # the order holds its cost

    assert trade.cancel_order(txid=txid) == {"count": 1}
    assert user.get_orders_info(txid=txid)[txid]["status"] == "canceled"
    assert txid not in user.get_open_orders()["open"]
    assert txid in user.get_closed_orders()["closed"]
    assert user.get_balance(currency="USD")["available_balance"] == pytest.approx(10_000)


def test_sdk_market_order_fills(sdk_user_trade: Callable[..., tuple[User, Trade]]) -> None:
    user, trade = sdk_user_trade(USD="10000")
    (txid,) = trade.create_order(ordertype="market", side="buy", pair="XBTUSD", volume=VOLUME)[
        "txid"
    ]

    info = user.get_orders_info(txid=txid, trades=True)[txid]
    assert info["status"] == "closed"
    assert Decimal(info["vol_exec"]) == Decimal(VOLUME)
    assert Decimal(info["price"]) > 0
    assert info["trades"]

    history = user.get_trades_history()
    assert history["count"] >= 1
    mine = {k: t for k, t in history["trades"].items() if t["ordertxid"] == txid}
    assert set(mine) == set(info["trades"])
    assert sum(Decimal(t["vol"]) for t in mine.values()) == Decimal(VOLUME)
    assert all(t["pair"] == "XXBTZUSD" and t["type"] == "buy" for t in mine.values())
    assert user.get_account_balance()["XXBT"] == "0.0010000000"


def test_sdk_errors_are_its_own_exceptions(
    emulator: Emulator, sdk_user_trade: Callable[..., tuple[User, Trade]]
) -> None:
    _, trade = sdk_user_trade(USD="1")
    bid = _one(Market(url=emulator.url).get_ticker(pair="XBTUSD"))["b"][0]
    with pytest.raises(KrakenInsufficientFundsError):
        trade.create_order(
            ordertype="limit", side="buy", pair="XBTUSD", volume="0.01", price=far_below(bid)
        )
    with pytest.raises(KrakenUnknownOrderError):
        trade.cancel_order(txid=UNKNOWN_TXID)
    with pytest.raises(KrakenInvalidAPIKeyError):
        User(key="no-such-key", secret=FAKE_SECRET, url=emulator.url).get_account_balance()
