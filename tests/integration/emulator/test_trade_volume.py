"""Kraken's private TradeVolume on a running emulator: the documented shape, the tier an
account's 30-day volume earns on each pair, and the volume growing with the account's trades."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.emulator.conftest import Emulator, Kraken


@pytest.fixture(scope="module")
def emulator(five_pair_emulator: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair emulator replaces the two-pair."""
    return five_pair_emulator


FIELDS = {"fee", "minfee", "maxfee", "nextfee", "nextvolume", "tiervolume"}


def account(emulator: Emulator, volume: str, **balances: str) -> Kraken:
    body = {"balances": balances, "volume_30d_usd": volume}
    response = emulator.http.post("/emulator/accounts", json=body)
    assert response.status_code == 200, response.text
    creds = response.json()
    return Kraken(emulator.http, creds["api_key"], creds["api_secret"])


def test_trade_volume_answers_the_tier_of_the_seeded_volume(emulator: Emulator) -> None:
    client = account(emulator, "60000", USD="1000")
    answer = client.ok("TradeVolume", pair="XBTUSD,SOLUSD")
    assert answer["currency"] == "ZUSD"
    assert answer["volume"] == "60000.0000"
    assert set(answer["fees"]) == {"XXBTZUSD", "SOLUSD"}
    assert set(answer["fees_maker"]) == {"XXBTZUSD", "SOLUSD"}
    # Kraken's spot schedule: the 50,000 USD tier is 0.24 % taker / 0.14 % maker.
    assert answer["fees"]["SOLUSD"] == {
        "fee": "0.2400",
        "minfee": "0.1000",
        "maxfee": "0.4000",
        "nextfee": "0.2200",
        "nextvolume": "100000.0000",
        "tiervolume": "50000.0000",
    }
    assert answer["fees_maker"]["XXBTZUSD"] == {
        "fee": "0.1400",
        "minfee": "0.0000",
        "maxfee": "0.2500",
        "nextfee": "0.1200",
        "nextvolume": "100000.0000",
        "tiervolume": "50000.0000",
    }


def test_the_top_tier_has_no_next_fee(emulator: Emulator) -> None:
    client = account(emulator, "20000000")
    answer = client.ok("TradeVolume", pair="XXBTZUSD")
    top = answer["fees"]["XXBTZUSD"]
    assert set(top) == FIELDS
    assert top["fee"] == "0.1000"
    assert top["nextfee"] is None
    assert top["nextvolume"] is None
    assert top["tiervolume"] == "10000000.0000"
    assert answer["fees_maker"]["XXBTZUSD"]["fee"] == "0.0000"


def test_without_a_pair_only_the_volume_is_answered(emulator: Emulator) -> None:
    client = account(emulator, "0")
    assert client.ok("TradeVolume") == {"currency": "ZUSD", "volume": "0.0000"}


def test_unknown_or_untraded_pairs_are_refused(emulator: Emulator) -> None:
    client = account(emulator, "0")
    for pair in ("NOPEUSD", "XBTEUR", "XBTUSD,NOPE"):
        assert client.call("TradeVolume", pair=pair)["error"] == ["EQuery:Unknown asset pair"]


def test_the_volume_grows_with_the_accounts_trades(emulator: Emulator) -> None:
    client = account(emulator, "9990", USD="100000")
    before = client.ok("TradeVolume", pair="ETHUSD")
    assert before["fees"]["XETHZUSD"]["fee"] == "0.4000"
    placed = client.ok("AddOrder", pair="ETHUSD", type="buy", ordertype="market", volume="1")
    (txid,) = placed["txid"]
    cost = Decimal(client.ok("QueryOrders", txid=txid)[txid]["cost"])
    after = client.ok("TradeVolume", pair="ETHUSD")
    assert Decimal(after["volume"]) == (Decimal(9990) + cost).quantize(Decimal("0.0001"))
    # Past 10,000 USD: the next tier's rates.
    assert after["fees"]["XETHZUSD"]["fee"] == "0.3500"
    assert after["fees_maker"]["XETHZUSD"]["fee"] == "0.2000"
