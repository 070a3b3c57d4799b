"""Kraken's AmendOrder on a running emulator, over real HTTP: the order changes in place
(same txid and cl_ord_id), Kraken's parameters and refusals."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.emulator.conftest import Emulator


def best(emulator: Emulator, side: str) -> Decimal:
    book = emulator.public("Depth", pair="XBTUSD", count=1)["result"]["XXBTZUSD"]
    return Decimal(book[side][0][0])


def far_bid(emulator: Emulator) -> str:
    return f"{(best(emulator, 'bids') * Decimal('0.5')).quantize(Decimal('0.1'))}"


def test_amend_quantity_and_price_in_place(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.02", price=price, cl_ord_id="amend-me")  # fmt: skip
    (txid,) = placed["txid"]
    held = Decimal(client.ok("BalanceEx")["ZUSD"]["hold_trade"])

    amended = client.ok("AmendOrder", cl_ord_id="amend-me", order_qty="0.01")
    assert set(amended) == {"amend_id"}
    assert isinstance(amended["amend_id"], str)
    assert amended["amend_id"]
    order = client.ok("QueryOrders", txid=txid)[txid]
    assert (order["status"], order["vol"], order["cl_ord_id"]) == ("open", "0.01000000", "amend-me")
    assert Decimal(client.ok("BalanceEx")["ZUSD"]["hold_trade"]) < held

    new_price = f"{Decimal(price) - 1}"
    client.ok("AmendOrder", txid=txid, limit_price=new_price)
    order = client.ok("QueryOrders", txid=txid)[txid]
    assert order["descr"]["price"] == new_price
    assert order["descr"]["order"] == f"buy 0.01000000 XBTUSD @ limit {new_price}"
    assert list(client.ok("OpenOrders")["open"]) == [txid]


def test_a_post_only_amend_that_would_take_is_refused_else_it_trades(emulator: Emulator) -> None:
    client = emulator.account(USD="100000")
    placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.01", price=far_bid(emulator))  # fmt: skip
    (txid,) = placed["txid"]
    through = f"{(best(emulator, 'asks') * Decimal('1.01')).quantize(Decimal('0.1'))}"
    refused = client.call("AmendOrder", txid=txid, limit_price=through, post_only="true")
    assert refused["error"] == ["EOrder:Post only order"]
    assert client.ok("QueryOrders", txid=txid)[txid]["status"] == "open"
    client.ok("AmendOrder", txid=txid, limit_price=through)
    filled = client.ok("QueryOrders", txid=txid)[txid]
    assert (filled["status"], filled["vol_exec"]) == ("closed", "0.01000000")


def test_amend_refusals_use_kraken_strings(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    price = far_bid(emulator)
    (txid,) = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                        volume="0.01", price=price)["txid"]  # fmt: skip
    cases = {
        "EGeneral:Invalid arguments:txid": {"order_qty": "0.02"},
        "EOrder:Unknown order": {"txid": "OAAAAA-BBBBB-CCCCCC", "order_qty": "0.02"},
        "EGeneral:Invalid arguments:order_qty": {"txid": txid, "order_qty": "lots"},
        "EGeneral:Invalid arguments:display_qty": {"txid": txid, "display_qty": "0.001"},
        "EGeneral:Invalid arguments:trigger_price": {"txid": txid, "trigger_price": price},
        "EOrder:Tick size check failed": {"txid": txid, "limit_price": f"{price}5"},
        "EOrder:Insufficient funds": {"txid": txid, "order_qty": "100"},
    }
    for expected, params in cases.items():
        assert client.call("AmendOrder", **params)["error"] == [expected], params
    order = client.ok("QueryOrders", txid=txid)[txid]
    assert (order["status"], order["vol"], order["descr"]["price"]) == ("open", "0.01000000", price)
    assert client.ok("CancelOrder", txid=txid) == {"count": 1}
    assert client.call("AmendOrder", txid=txid, order_qty="0.02")["error"] == [
        "EOrder:Unknown order"
    ]
