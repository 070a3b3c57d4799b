"""The emulator's admin routes: accounts with validated balances, the synthetic regimes."""

from __future__ import annotations

import time

import pytest

from tests.integration.emulator.conftest import Emulator


@pytest.fixture(scope="module")
def emulator(five_pair_emulator: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair emulator replaces the two-pair."""
    return five_pair_emulator


@pytest.fixture(scope="module")
def synthetic(five_pair_synthetic: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair synthetic replaces the two-pair."""
    return five_pair_synthetic


def test_account_creation_validates_balances(emulator: Emulator) -> None:
    http = emulator.http
    made = http.post("/emulator/accounts", json={"balances": {"USD": "10000", "XXBT": "1"}})
    assert made.status_code == 200
    assert set(made.json()) == {"api_key", "api_secret"}
    for body, hint in [
        ({"balances": {"DOGECOIN": "1"}}, "unknown asset"),
        ({"balances": {"USD": "-1"}}, "zero or more"),
        ({"balances": {"USD": "abc"}}, "not a decimal"),
        ({"balances": {"USD": 1.5}}, "decimal string"),
        ({"balances": {"USD": "NaN"}}, "finite"),
        ({"balances": ["USD"]}, "balances must be"),
        ({"other": 1}, "unknown field"),
    ]:
        response = http.post("/emulator/accounts", json=body)
        assert response.status_code == 400, body
        assert hint in response.json()["error"], response.json()
    broken = http.post("/emulator/accounts", content=b"{nope")
    assert broken.status_code == 400
    assert "JSON" in broken.json()["error"]


def test_regimes_are_empty_for_replay(emulator: Emulator) -> None:
    assert emulator.http.get("/emulator/regimes").json() == []


def test_synthetic_market_records_regimes_and_trades(synthetic: Emulator) -> None:
    time.sleep(0.5)
    regimes = synthetic.http.get("/emulator/regimes").json()
    assert regimes
    assert {r["pair"] for r in regimes} == {"XBTUSD", "ETHUSD"}
    assert {r["regime"] for r in regimes} <= {
        "trending_up", "trending_down", "sideways", "high_volatility"
    }  # fmt: skip
    ticker = synthetic.public("Ticker")["result"]
    # The two shipped pairs run the regime market; the three followers track XBTUSD.
    assert set(ticker) == {"XXBTZUSD", "XETHZUSD", "SOLUSD", "XXRPZUSD", "ADAUSD"}
    client = synthetic.account(USD="100000")
    assert client.ok("AddOrder", pair="ETHUSD", type="buy", ordertype="market", volume="0.1")
    assert client.ok("Balance")["XETH"] == "0.1000000000"
