"""Kraken's public REST methods on a running emulator: shapes, values and bad input."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.emulator.conftest import Emulator


def result(body: dict[str, Any]) -> dict[str, Any]:
    assert body["error"] == [], body
    value: dict[str, Any] = body["result"]
    assert isinstance(value, dict)
    return value


def test_time_and_system_status(emulator: Emulator) -> None:
    now = result(emulator.public("Time"))
    assert abs(int(str(now["unixtime"])) - time.time()) < 5
    assert str(now["rfc1123"]).endswith("+0000")
    status = result(emulator.public("SystemStatus"))
    assert status["status"] == "online"
    assert str(status["timestamp"]).endswith("Z")


def test_assets_use_kraken_codes(emulator: Emulator) -> None:
    assets = result(emulator.public("Assets"))
    assert {"XXBT", "ZUSD", "XETH"} <= set(assets)
    xbt = assets["XXBT"]
    assert isinstance(xbt, dict)
    assert xbt["altname"] == "XBT"
    assert xbt["decimals"] == 10
    assert emulator.public("Assets", asset="NOPE")["error"] == ["EQuery:Unknown asset"]


def test_asset_pairs_list_usd_and_other_pairs_with_kraken_fields(emulator: Emulator) -> None:
    pairs = result(emulator.public("AssetPairs"))
    altnames = {p["altname"] for p in pairs.values() if isinstance(p, dict)}
    assert {"XBTUSD", "ETHUSD", "XBTEUR", "ETHXBT", "USDTUSD"} <= altnames
    xbt = pairs["XXBTZUSD"]
    assert isinstance(xbt, dict)
    fields = [
        "altname",
        "wsname",
        "aclass_base",
        "base",
        "aclass_quote",
        "quote",
        "lot",
        "cost_decimals",
        "pair_decimals",
        "lot_decimals",
        "lot_multiplier",
        "leverage_buy",
        "leverage_sell",
        "fees",
        "fees_maker",
        "fee_volume_currency",
        "margin_call",
        "margin_stop",
        "ordermin",
        "costmin",
        "tick_size",
        "status",
    ]
    for field in fields:
        assert field in xbt, field
    assert (xbt["base"], xbt["quote"], xbt["wsname"]) == ("XXBT", "ZUSD", "XBT/USD")
    assert xbt["tick_size"] == "0.1"
    assert xbt["pair_decimals"] == 1
    assert xbt["lot_decimals"] == 8
    assert xbt["fees"][0] == [0, 0.4]
    assert pairs["XETHXXBT"]["quote"] == "XXBT"
    assert pairs["USDTZUSD"]["base"] == "USDT"
    one = result(emulator.public("AssetPairs", pair="XBTUSD,XXBTZEUR"))
    assert set(one) == {"XXBTZUSD", "XXBTZEUR"}
    fees = result(emulator.public("AssetPairs", pair="ETHUSD", info="fees"))
    assert set(fees["XETHZUSD"]) == {"altname", "fees", "fees_maker", "fee_volume_currency"}
    assert emulator.public("AssetPairs", pair="FOOBAR")["error"] == ["EQuery:Unknown asset pair"]
    assert emulator.public("AssetPairs", info="bogus")["error"][0].startswith(
        "EGeneral:Invalid arguments"
    )


def test_ticker_depth_and_trades_move_as_the_market_runs(emulator: Emulator) -> None:
    first = result(emulator.public("Ticker", pair="XBTUSD"))["XXBTZUSD"]
    book_before = result(emulator.public("Depth", pair="XBTUSD"))["XXBTZUSD"]
    trades_before = result(emulator.public("Trades", pair="XBTUSD"))
    time.sleep(1.5)
    second = result(emulator.public("Ticker", pair="XBTUSD"))["XXBTZUSD"]
    book_after = result(emulator.public("Depth", pair="XBTUSD"))["XXBTZUSD"]
    trades_after = result(emulator.public("Trades", pair="XBTUSD"))
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    for key in ("a", "b", "c", "v", "p", "t", "l", "h"):
        assert isinstance(second[key], list), key
    assert isinstance(second["o"], str)
    assert all(isinstance(x, str) for x in second["a"] + second["b"] + second["c"])
    assert second["t"][1] > first["t"][1]  # more trades in the last 24 hours
    assert Decimal(second["b"][0]) < Decimal(second["a"][0])  # never crossed
    assert book_after != book_before
    assert trades_after["last"] != trades_before["last"]


def test_depth_honours_count_and_is_sorted(emulator: Emulator) -> None:
    book = result(emulator.public("Depth", pair="XXBTZUSD", count=5))["XXBTZUSD"]
    assert isinstance(book, dict)
    asks, bids = book["asks"], book["bids"]
    assert len(asks) == 5
    assert len(bids) == 5
    ask_prices = [Decimal(a[0]) for a in asks]
    bid_prices = [Decimal(b[0]) for b in bids]
    assert ask_prices == sorted(ask_prices)
    assert bid_prices == sorted(bid_prices, reverse=True)
    assert bid_prices[0] < ask_prices[0]
    price, volume, stamp = asks[0]
    assert isinstance(price, str)
    assert isinstance(volume, str)
    assert isinstance(stamp, int)
    assert len(price.split(".")[1]) == 1
    assert len(volume.split(".")[1]) == 8
    for bad in ("0.5", "abc", "501", "-1"):
        error = emulator.public("Depth", pair="XBTUSD", count=bad)["error"]
        assert error[0].startswith("EGeneral:Invalid arguments"), (bad, error)


def test_ohlc_has_at_most_720_rows_and_a_last(emulator: Emulator) -> None:
    ohlc = result(emulator.public("OHLC", pair="XBTUSD", interval=1))
    rows = ohlc["XXBTZUSD"]
    assert isinstance(rows, list)
    assert 1 <= len(rows) <= 720
    start, o, h, lo, c, vwap, volume, count = rows[-1]
    assert isinstance(start, int)
    assert start % 60 == 0
    assert isinstance(count, int)
    assert Decimal(lo) <= min(Decimal(o), Decimal(c)) <= max(Decimal(o), Decimal(c)) <= Decimal(h)
    assert Decimal(lo) <= Decimal(vwap) <= Decimal(h)
    assert Decimal(volume) > 0
    assert isinstance(ohlc["last"], int)
    for interval in (5, 15, 60, 1440, 21600):
        assert (
            len(result(emulator.public("OHLC", pair="ETHUSD", interval=interval))["XETHZUSD"])
            <= 720
        )
    assert emulator.public("OHLC", pair="XBTUSD", interval=7)["error"] == [
        "EGeneral:Invalid arguments:interval"
    ]
    newer = result(emulator.public("OHLC", pair="XBTUSD", since=ohlc["last"]))["XXBTZUSD"]
    assert all(row[0] > int(str(ohlc["last"])) for row in newer)


def test_trades_page_forward_with_last(emulator: Emulator) -> None:
    time.sleep(0.5)
    page = result(emulator.public("Trades", pair="XBTUSD", count=3))
    rows = page["XXBTZUSD"]
    assert isinstance(rows, list)
    assert len(rows) == 3
    price, volume, when, side, kind, misc, trade_id = rows[0]
    assert isinstance(price, str)
    assert isinstance(volume, str)
    assert isinstance(when, float)
    assert side in ("b", "s")
    assert kind in ("m", "l")
    assert misc == ""
    assert isinstance(trade_id, int)
    last = page["last"]
    assert isinstance(last, str)
    assert last.isdigit()
    time.sleep(0.5)
    after = result(emulator.public("Trades", pair="XBTUSD", since=last))
    newer = after["XXBTZUSD"]
    assert isinstance(newer, list)
    assert newer
    assert newer[0][6] > rows[-1][6]  # strictly after the cursor, no repeats
    assert int(str(after["last"])) > int(last)
    ids = [r[6] for r in newer]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert emulator.public("Trades", pair="XBTUSD", count=0)["error"]


@pytest.mark.parametrize("method", ["Ticker", "Depth", "OHLC", "Trades"])
def test_unknown_and_non_traded_pairs(emulator: Emulator, method: str) -> None:
    for pair in ("NOPEUSD", "XBTEUR", "xbtusd"):
        assert emulator.public(method, pair=pair)["error"] == ["EQuery:Unknown asset pair"]


def test_unknown_method_and_malformed_input_never_500(emulator: Emulator) -> None:
    http = emulator.http
    response = http.get("/0/public/Nope")
    assert response.status_code == 200
    assert response.json() == {"error": ["EGeneral:Unknown method"]}
    bad = [
        http.get("/0/public/Depth?pair=XBTUSD&count=%zz&&=="),
        http.post("/0/public/Depth", content=b"\xff\xfe", headers={"Content-Type": "x"}),
        http.post(
            "/0/public/Ticker", content=b"[1,2]", headers={"Content-Type": "application/json"}
        ),
        http.post(
            "/0/public/Ticker", content=b"{bad", headers={"Content-Type": "application/json"}
        ),
        http.get("/0/public/Depth", params={"pair": "XBTUSD", "count": "9" * 400}),
        http.get("/0/public/Trades", params={"pair": "XBTUSD", "since": "1e30"}),
        http.get("/0/public/Depth"),
    ]
    for response in bad:
        assert response.status_code == 200, response.text
        error = response.json()["error"]
        assert error, response.text
        assert error[0].startswith("E"), error
    assert http.post("/0/public/Depth", data={"pair": "XBTUSD", "count": "2"}).json()["error"] == []
