"""Every pair the emulator drives is a full citizen: the shipped XBTUSD and ETHUSD and the
synthetic followers (SOLUSD, XRPUSD, ADAUSD) are listed, quoted, printed and tradable over
REST and WebSocket v2."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aether.venues.kraken.book import LocalBook
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from tests.integration.emulator.conftest import Emulator
from tests.integration.emulator.test_ws import precisions, v2
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def emulator(five_pair_emulator: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair emulator replaces the two-pair."""
    return five_pair_emulator


@pytest.fixture(scope="module")
def synthetic(five_pair_synthetic: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair synthetic replaces the two-pair."""
    return five_pair_synthetic


#: altname -> (pair key, WebSocket v2 symbol)
PAIRS = {
    "XBTUSD": ("XXBTZUSD", "BTC/USD"),
    "ETHUSD": ("XETHZUSD", "ETH/USD"),
    "SOLUSD": ("SOLUSD", "SOL/USD"),
    "XRPUSD": ("XXRPZUSD", "XRP/USD"),
    "ADAUSD": ("ADAUSD", "ADA/USD"),
}
FOLLOWERS = ("SOLUSD", "XRPUSD", "ADAUSD")


def result(body: dict[str, Any]) -> Any:
    assert body["error"] == [], body
    return body["result"]


def test_asset_pairs_list_five_tradable_usd_pairs_with_the_snapshots_rules(
    emulator: Emulator,
) -> None:
    listed = result(emulator.public("AssetPairs"))
    snapshot = load_instrument_snapshot()
    for altname, (key, _) in PAIRS.items():
        pair = listed[key]
        instrument = snapshot[altname]
        assert pair["altname"] == altname
        assert pair["quote"] == "ZUSD"
        assert Decimal(pair["tick_size"]) == instrument.tick_size
        assert Decimal(pair["ordermin"]) == instrument.min_quantity
        assert Decimal(pair["costmin"]) == instrument.min_cost
        assert Decimal(1).scaleb(-pair["lot_decimals"]) == instrument.lot_size


async def test_followers_answer_ticker_ohlc_depth_and_trades(emulator: Emulator) -> None:
    for altname in FOLLOWERS:
        key, _ = PAIRS[altname]

        def printed(name: str = altname, k: str = key) -> list[Any]:
            trades: list[Any] = result(emulator.public("Trades", pair=name))[k]
            return trades if len(trades) >= 2 else []

        trades = await eventually(printed)
        assert all(Decimal(t[0]) > 0 and Decimal(t[1]) > 0 for t in trades)
        ticker = result(emulator.public("Ticker", pair=altname))[key]
        assert Decimal(ticker["b"][0]) < Decimal(ticker["a"][0])
        depth = result(emulator.public("Depth", pair=altname, count=10))[key]
        assert len(depth["bids"]) == 10
        assert len(depth["asks"]) == 10
        assert Decimal(depth["bids"][0][0]) < Decimal(depth["asks"][0][0])
        candles = result(emulator.public("OHLC", pair=altname, interval=1))[key]
        assert candles
        assert Decimal(candles[-1][3]) <= Decimal(candles[-1][2])


def test_a_market_order_on_a_follower_fills_over_rest(emulator: Emulator) -> None:
    client = emulator.account(USD="100000", XRP="1000")
    bought = result(client.call("AddOrder", pair="SOLUSD", type="buy", ordertype="market",
                                volume="1.5"))  # fmt: skip
    (txid,) = bought["txid"]
    order = client.ok("QueryOrders", txid=txid)[txid]
    assert order["status"] == "closed"
    assert order["vol_exec"] == "1.50000000"
    assert Decimal(order["fee"]) > 0
    # A marketable limit sell on another follower: fills at the bid or better.
    bid = Decimal(
        result(emulator.public("Depth", pair="XRPUSD", count=1))["XXRPZUSD"]["bids"][0][0]
    )
    sold = client.ok("AddOrder", pair="XXRPZUSD", type="sell", ordertype="limit", volume="100",
                     price=f"{bid * Decimal('0.99'):.5f}")  # fmt: skip
    (sell_txid,) = sold["txid"]
    assert client.ok("QueryOrders", txid=sell_txid)[sell_txid]["status"] == "closed"
    balances = client.ok("Balance")
    assert balances["SOL"] == "1.50000000"
    assert balances["XXRP"] == "900.00000000"
    trades = client.ok("TradesHistory")["trades"]
    assert {t["pair"] for t in trades.values()} == {"SOLUSD", "XXRPZUSD"}


async def test_book_checksums_hold_on_a_follower(synthetic: Emulator) -> None:
    async with v2(synthetic) as ws:
        pp, qp = await precisions(ws, "ADA/USD")
        assert (pp, qp) == (6, 8)
        ack = await ws.call("subscribe", channel="book", symbol=["ADA/USD"], depth=10)
        assert ack["success"] is True, ack
        (data,) = (await ws.channel("book", "snapshot"))["data"]
        book = LocalBook(pp, qp, 10)
        book.apply_snapshot(data["bids"], data["asks"])
        assert book.verify(data["checksum"]), book.checksum_text()
        for _ in range(8):
            (data,) = (await ws.channel("book", "update"))["data"]
            assert data["symbol"] == "ADA/USD"
            book.apply_update(data["bids"], data["asks"])
            assert book.verify(data["checksum"]), book.checksum_text()
        assert book.bids()[0][0] < book.asks()[0][0]


async def test_followers_stream_trades_tickers_candles_and_instruments(
    synthetic: Emulator,
) -> None:
    symbols = [PAIRS[name][1] for name in FOLLOWERS]
    async with v2(synthetic) as ws:
        await ws.call("subscribe", channel="instrument")
        listed = {
            p["symbol"] for p in (await ws.channel("instrument", "snapshot"))["data"]["pairs"]
        }
        assert {symbol for _, symbol in PAIRS.values()} <= listed
        for channel in ("trade", "ticker"):
            ack = await ws.call("subscribe", channel=channel, symbol=symbols)
            assert ack["success"] is True, ack
        ack = await ws.call("subscribe", channel="ohlc", symbol=symbols, interval=1)
        assert ack["success"] is True, ack
        seen: dict[str, set[str]] = {"trade": set(), "ticker": set(), "ohlc": set()}

        def every_symbol_seen(message: dict[str, Any]) -> bool:
            if message.get("channel") in seen and message.get("type") == "update":
                seen[message["channel"]].update(d["symbol"] for d in message["data"])
            return all(set(symbols) <= got for got in seen.values())

        await ws.until(every_symbol_seen, timeout=30)
