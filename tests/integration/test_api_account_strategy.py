"""An account's strategy over the API: set on create or by PATCH, checked against the strategy
catalogue, pairs normalised, audited; bad input is a 422 naming the field and changes
nothing."""

from __future__ import annotations

import httpx

from tests.conftest import Seed

SMA = {"name": "sma_cross", "params": {"fast": 10}, "pairs": ["BTC/USD", "XETHZUSD"]}
STORED = {
    "name": "sma_cross",
    "params": {"fast": 10, "slow": 50},
    "pairs": ["XBTUSD", "ETHUSD"],
    "bar_seconds": 60,
}


async def test_a_strategy_is_set_stored_in_one_spelling_and_audited(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    bob = aether_seed.bob
    url = f"/api/v1/accounts/{aether_seed.bob_account}"
    before = await aether_api.get(url, headers=bob.headers)
    assert before.json()["config"]["strategy"] is None  # no strategy: the account does not trade

    ok = await aether_api.patch(f"{url}/config", json={"strategy": SMA}, headers=bob.headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["config"]["strategy"] == STORED
    assert (await aether_api.get(url, headers=bob.headers)).json()["config"]["strategy"] == STORED

    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": str(aether_seed.bob_account), "action": "account.config_updated"},
        headers=bob.headers,
    )
    [entry] = audit.json()
    assert entry["details"]["changes"]["strategy"] == {"from": None, "to": STORED}

    tuned = {**SMA, "params": {"fast": 12}}
    changed = await aether_api.patch(f"{url}/config", json={"strategy": tuned}, headers=bob.headers)
    assert changed.status_code == 200, changed.text
    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": str(aether_seed.bob_account), "action": "account.config_updated"},
        headers=bob.headers,
    )
    assert [e["details"]["changes"] for e in audit.json()][1:] == [
        {"strategy.params.fast": {"from": 10, "to": 12}}  # the exact field that changed
    ]

    cleared = await aether_api.patch(f"{url}/config", json={"strategy": None}, headers=bob.headers)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["config"]["strategy"] is None


async def test_bad_strategies_get_422_naming_the_field_and_change_nothing(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.admin.headers
    url = f"/api/v1/accounts/{aether_seed.company}/config"
    cases = [
        ({**SMA, "name": "martingale"}, "body.strategy.name", "unknown strategy 'martingale'"),
        ({**SMA, "params": {"fast": "x"}}, "body.strategy.params.fast", "expected an integer"),
        ({**SMA, "params": {"speed": 3}}, "body.strategy.params.speed", "no parameter 'speed'"),
        ({**SMA, "params": {"fast": 90}}, "body.strategy.params", "fast < slow"),
        ({**SMA, "pairs": ["ETH/BTC"]}, "body.strategy.pairs.0", "is not a USD pair"),
        ({**SMA, "pairs": []}, "body.strategy.pairs", "at least 1 item"),
    ]
    for strategy, field, message in cases:
        response = await aether_api.patch(url, json={"strategy": strategy}, headers=headers)
        assert response.status_code == 422, (field, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        fields = {f["field"]: f["message"] for f in error["fields"]}
        assert field in fields, (field, error)
        assert message in fields[field], (field, error)
        assert "Traceback" not in response.text

    account = await aether_api.get(f"/api/v1/accounts/{aether_seed.company}", headers=headers)
    assert account.json()["config"]["strategy"] is None
    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": str(aether_seed.company), "action": "account.config_updated"},
        headers=headers,
    )
    assert audit.json() == []


async def test_an_account_is_created_with_a_strategy_or_refused_naming_it(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.admin.headers
    created = await aether_api.post(
        "/api/v1/accounts",
        json={"name": "Momentum", "config": {"strategy": SMA}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["config"]["strategy"] == STORED
    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": created.json()["id"], "action": "account.created"},
        headers=headers,
    )
    assert audit.json()[0]["details"]["config"]["strategy"] == STORED

    refused = await aether_api.post(
        "/api/v1/accounts",
        json={"name": "Martingale", "config": {"strategy": {**SMA, "name": "martingale"}}},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "body.config.strategy.name" in [f["field"] for f in refused.json()["error"]["fields"]]
    listed = await aether_api.get("/api/v1/accounts", headers=headers)
    assert "Martingale" not in [a["name"] for a in listed.json()]
