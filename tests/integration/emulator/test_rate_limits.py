"""Kraken's rate limits on a running emulator, over real HTTP: the REST call counter per API
key and the trading counter per account and pair."""

from __future__ import annotations

import time
from decimal import Decimal

from tests.integration.emulator.conftest import Emulator, Kraken

LIMITED = ["EAPI:Rate limit exceeded"]


def account(emulator: Emulator, tier: str, **balances: str) -> Kraken:
    response = emulator.http.post("/emulator/accounts", json={"balances": balances, "tier": tier})
    assert response.status_code == 200, response.text
    creds = response.json()
    return Kraken(emulator.http, creds["api_key"], creds["api_secret"])


def far_bid(emulator: Emulator) -> str:
    book = emulator.public("Depth", pair="XBTUSD", count=1)["result"]["XXBTZUSD"]
    return f"{(Decimal(book['bids'][0][0]) * Decimal('0.5')).quantize(Decimal('0.1'))}"


def test_a_starter_key_is_refused_past_15_calls(emulator: Emulator) -> None:
    client = account(emulator, "starter", USD="100")
    answers = [client.call("Balance")["error"] for _ in range(16)]
    assert answers[:15] == [[]] * 15
    assert answers[15] == LIMITED
    other = emulator.account(USD="1")  # another key has its own counter
    assert other.call("Balance")["error"] == []


def test_a_limited_key_recovers_after_waiting(emulator: Emulator) -> None:
    client = account(emulator, "pro", USD="100")  # 20 calls, -1 a second
    answers = [client.call("Balance")["error"] for _ in range(21)]
    assert answers[:20] == [[]] * 20
    assert answers[20] == LIMITED
    time.sleep(2.5)  # 21 - 2.5 + 1 <= 20
    assert client.call("Balance")["error"] == []


def test_history_costs_two_and_order_entry_has_its_own_counter(emulator: Emulator) -> None:
    client = account(emulator, "starter", USD="10000")
    assert all(client.call("TradesHistory")["error"] == [] for _ in range(7))  # 14
    assert client.call("TradesHistory")["error"] == LIMITED  # 14 + 2 > 15
    price = far_bid(emulator)
    placed = client.call("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                         volume="0.01", price=price)  # fmt: skip
    assert placed["error"] == []


def test_quick_cancels_hit_the_pair_s_trading_counter(emulator: Emulator) -> None:
    client = account(emulator, "starter", USD="100000", ETH="1")
    price = far_bid(emulator)
    txids = []
    for _ in range(8):  # +1 each: 8
        placed = client.ok("AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                           volume="0.01", price=price)  # fmt: skip
        txids.extend(placed["txid"])
    answers = [client.call("CancelOrder", txid=txid)["error"] for txid in txids[:7]]
    # Each cancel of an order under 5 s old adds 8: 16, 24, ... 56, then 64 > 60.
    assert answers[:6] == [[]] * 6
    assert answers[6] == ["EOrder:Rate limit exceeded"]
    assert len(client.ok("OpenOrders")["open"]) == 2
    other_pair = client.call("AddOrder", pair="ETHUSD", type="sell", ordertype="limit",
                             volume="0.01", price="100000")  # fmt: skip
    assert other_pair["error"] == []
