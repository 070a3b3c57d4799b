"""Kraken's private REST methods on a running emulator, signed independently in the test."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from tests.integration.emulator.conftest import Emulator


def best(emulator: Emulator, side: str) -> Decimal:
    book = emulator.public("Depth", pair="XBTUSD", count=1)["result"]["XXBTZUSD"]
    return Decimal(book[side][0][0])


def far_bid(emulator: Emulator) -> str:
    return f"{(best(emulator, 'bids') * Decimal('0.5')).quantize(Decimal('0.1'))}"


def test_balance_and_balance_ex_use_kraken_codes(emulator: Emulator) -> None:
    client = emulator.account(USD="10000", XBT="0.5")
    assert client.ok("Balance") == {"ZUSD": "10000.0000", "XXBT": "0.5000000000"}
    ex = client.ok("BalanceEx")
    assert ex["ZUSD"] == {"balance": "10000.0000", "hold_trade": "0.0000"}


def test_add_query_open_and_cancel_by_txid(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.01", price=price)  # fmt: skip
    assert placed["descr"]["order"] == f"buy 0.01000000 XBTUSD @ limit {price}"
    (txid,) = placed["txid"]
    queried = client.ok("QueryOrders", txid=txid, trades="true")[txid]
    assert queried["status"] == "open"
    assert queried["vol"] == "0.01000000"
    assert queried["descr"]["pair"] == "XBTUSD"
    assert queried["descr"]["price"] == price
    assert isinstance(queried["opentm"], float)
    assert txid in client.ok("OpenOrders")["open"]
    held = client.ok("BalanceEx")["ZUSD"]
    assert Decimal(held["hold_trade"]) > 0
    assert client.ok("CancelOrder", txid=txid) == {"count": 1}
    closed = client.ok("ClosedOrders")
    assert closed["count"] == 1
    assert closed["closed"][txid]["status"] == "canceled"
    assert closed["closed"][txid]["reason"] == "User requested"
    assert client.ok("OpenOrders") == {"open": {}}
    assert client.call("CancelOrder", txid=txid)["error"] == ["EOrder:Unknown order"]
    assert client.call("QueryOrders", txid="OAAAAA-BBBBB-CCCCCC")["error"] == [
        "EOrder:Invalid order"
    ]


def test_cancel_by_cl_ord_id_and_validate(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    checked = client.ok("AddOrder", pair="XXBTZUSD", type="buy", ordertype="limit",
                        volume="0.01", price=price, validate="true")  # fmt: skip
    assert "txid" not in checked
    assert checked["descr"]["order"].startswith("buy 0.01000000")
    assert client.ok("OpenOrders") == {"open": {}}
    placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.01", price=price, cl_ord_id="my-order-1")  # fmt: skip
    (txid,) = placed["txid"]
    assert (
        client.ok("OpenOrders", cl_ord_id="my-order-1")["open"][txid]["cl_ord_id"] == "my-order-1"
    )
    assert client.ok("CancelOrder", cl_ord_id="my-order-1") == {"count": 1}
    assert client.ok("QueryOrders", txid=txid)[txid]["status"] == "canceled"


def test_a_fill_against_the_market_maker_shows_in_history_and_balance(emulator: Emulator) -> None:
    client = emulator.account(USD="100000")
    placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="market", volume="0.01")
    (txid,) = placed["txid"]
    order = client.ok("QueryOrders", txid=txid, trades="true")[txid]
    assert order["status"] == "closed"
    assert order["vol_exec"] == "0.01000000"
    assert Decimal(order["fee"]) > 0
    assert order["trades"]
    history = client.ok("TradesHistory")
    assert history["count"] >= 1
    trade = next(iter(history["trades"].values()))
    assert trade["ordertxid"] == txid
    assert trade["pair"] == "XXBTZUSD"
    assert trade["type"] == "buy"
    assert trade["maker"] is False
    assert trade["vol"] == "0.01000000"
    assert isinstance(trade["trade_id"], int)
    assert isinstance(trade["time"], float)
    balance = client.ok("Balance")
    assert balance["XXBT"] == "0.0100000000"
    spent = Decimal(order["cost"]) + Decimal(order["fee"])
    assert Decimal(balance["ZUSD"]) == Decimal(100000) - spent.quantize(Decimal("0.0001"))


def test_cancel_all_and_cancel_all_orders_after(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    for _ in range(2):
        client.ok(
            "AddOrder", pair="XBTUSD", type="buy", ordertype="limit", volume="0.01", price=price
        )
    assert client.ok("CancelAll") == {"count": 2}
    client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit", volume="0.01", price=price)
    armed = client.ok("CancelAllOrdersAfter", timeout=1)
    assert armed["currentTime"].endswith("Z")
    assert armed["triggerTime"] > armed["currentTime"]
    assert len(client.ok("OpenOrders")["open"]) == 1
    time.sleep(1.6)
    assert client.ok("OpenOrders") == {"open": {}}
    closed = client.ok("ClosedOrders")
    assert closed["count"] == 3
    newest = next(iter(closed["closed"].values()))  # most recently closed first
    assert newest["status"] == "canceled"
    assert newest["reason"] != "User requested"
    assert client.ok("CancelAllOrdersAfter", timeout=0)["triggerTime"] == "0"
    assert client.call("CancelAllOrdersAfter", timeout="abc")["error"] == [
        "EGeneral:Invalid arguments:timeout"
    ]


def test_add_order_batch_and_edit_order(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    orders: list[dict[str, Any]] = [
        {"ordertype": "limit", "type": "buy", "volume": "0.01", "price": price},
        {"ordertype": "limit", "type": "buy", "volume": "0.02", "price": price},
    ]
    batch = client.call_json("AddOrderBatch", pair="XBTUSD", orders=orders)
    assert batch["error"] == [], batch
    txids = [o["txid"] for o in batch["result"]["orders"]]
    assert len(txids) == 2
    assert all(o["descr"]["order"] for o in batch["result"]["orders"])
    bad = client.call_json("AddOrderBatch", pair="XBTUSD", orders=[orders[0], {"type": "up"}])
    assert bad["error"]
    assert bad["error"][0].startswith("EGeneral:Invalid arguments")
    assert client.call_json("AddOrderBatch", pair="XBTUSD", orders=[orders[0]])["error"]
    assert len(client.ok("OpenOrders")["open"]) == 2
    new_price = f"{Decimal(price) - 1}"
    edited = client.ok("EditOrder", txid=txids[0], pair="XBTUSD", price=new_price, volume="0.03")
    assert edited["status"] == "ok"
    assert edited["originaltxid"] == txids[0]
    assert edited["orders_cancelled"] == 1
    fresh = client.ok("QueryOrders", txid=edited["txid"])[edited["txid"]]
    assert fresh["descr"]["price"] == new_price
    assert fresh["vol"] == "0.03000000"
    assert client.ok("QueryOrders", txid=txids[0])[txids[0]]["status"] == "canceled"


def test_websockets_token(emulator: Emulator) -> None:
    client = emulator.account(USD="1")
    token = client.ok("GetWebSocketsToken")
    assert token["expires"] == 900
    assert len(token["token"]) >= 32


def test_order_refusals_use_kraken_strings(emulator: Emulator) -> None:
    client = emulator.account(USD="100")
    price = far_bid(emulator)
    cases = {
        "EQuery:Unknown asset pair": {"pair": "NOPEUSD"},
        "EOrder:Insufficient funds": {"volume": "1000000000000000000000000000000"},
        "EGeneral:Invalid arguments:volume": {"volume": "1e30"},
        "EOrder:Tick size check failed": {"price": f"{price}5"},
        "EOrder:Order minimum not met": {"volume": "0.00000001"},
        "EGeneral:Invalid arguments:ordertype": {"ordertype": "bogus"},
        "EGeneral:Invalid arguments:userref": {"userref": "x"},
    }
    base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": price}
    for expected, change in cases.items():
        assert client.call("AddOrder", **{**base, **change})["error"] == [expected], change
    assert client.call("AddOrder", pair="XBTEUR", type="buy", ordertype="market",
                       volume="1")["error"] == ["EQuery:Unknown asset pair"]  # fmt: skip


def test_authentication_failures(emulator: Emulator) -> None:
    client = emulator.account(USD="1")
    http = emulator.http
    nonce = client.next_nonce()
    body = f"nonce={nonce}"
    assert client.raw("Balance", body, nonce, headers={"API-Sign": "AAAA"})["error"] == [
        "EAPI:Invalid signature"
    ]
    assert client.raw("Balance", body, nonce, headers={"API-Sign": "not base64!"})["error"] == [
        "EAPI:Invalid signature"
    ]
    assert client.raw("Balance", "", 0)["error"] == ["EAPI:Invalid nonce"]
    assert client.raw("Balance", body, nonce, headers={"API-Key": "unknown"})["error"] == [
        "EAPI:Invalid key"
    ]
    assert client.raw("Balance", body, nonce)["error"] == []
    assert client.raw("Balance", body, nonce)["error"] == ["EAPI:Invalid nonce"]  # replayed
    malformed = client.raw("Balance", "nonce=1&&%%", 1)
    assert malformed["error"][0].startswith("E")
    assert http.post("/0/private/Balance").json() == {"error": ["EAPI:Invalid key"]}
    assert http.post("/0/private/Nope").json() == {"error": ["EGeneral:Unknown method"]}
    assert http.get("/0/private/Balance").json()["error"][0].startswith("EGeneral")
    nonce = client.next_nonce()
    bad_json = json.dumps({"nonce": str(nonce), "orders": "[[["})
    answer = client.raw("AddOrderBatch", bad_json, nonce, json_body=True)
    assert answer["error"][0].startswith("EGeneral:Invalid arguments")
