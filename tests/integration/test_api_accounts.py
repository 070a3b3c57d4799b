"""Accounts over the API: list, read, create (a fourth account is one call), reconfigure."""

from __future__ import annotations

import json

import asyncpg
import httpx

from tests.conftest import Seed


async def test_list_shows_only_granted_accounts(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    admin = (await aether_api.get("/api/v1/accounts", headers=aether_seed.admin.headers)).json()
    assert [a["name"] for a in admin] == ["Company", "Director A", "Director B"]
    assert {a["kind"] for a in admin} == {"company", "director"}
    assert {a["mode"] for a in admin} == {"paper"}
    alice = (await aether_api.get("/api/v1/accounts", headers=aether_seed.alice.headers)).json()
    assert [(a["name"], a["role"]) for a in alice] == [("Director A", "trader")]


async def test_fourth_account_is_one_call_and_audited(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    created = await aether_api.post(
        "/api/v1/accounts",
        json={"name": "Treasury", "kind": "other"},
        headers=aether_seed.admin.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["mode"] == "paper"
    assert body["base_currency"] == "USD"
    assert body["role"] == "admin"
    listed = (await aether_api.get("/api/v1/accounts", headers=aether_seed.admin.headers)).json()
    assert "Treasury" in [a["name"] for a in listed]
    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": body["id"], "action": "account.created"},
        headers=aether_seed.admin.headers,
    )
    assert [r["actor"] for r in audit.json()] == ["user:root"]

    duplicate = await aether_api.post(
        "/api/v1/accounts", json={"name": "Treasury"}, headers=aether_seed.admin.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "account_exists"


async def test_only_platform_admins_create_accounts(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    response = await aether_api.post(
        "/api/v1/accounts", json={"name": "Mine"}, headers=aether_seed.bob.headers
    )
    assert response.status_code == 403


async def test_config_update_is_validated_audited_and_needs_admin_role(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    bob, alice = aether_seed.bob, aether_seed.alice
    url = f"/api/v1/accounts/{aether_seed.bob_account}/config"
    ok = await aether_api.patch(
        url,
        json={"trading_state": "reducing", "risk": {"max_order_notional_usd": "250.50"}},
        headers=bob.headers,
    )
    assert ok.status_code == 200, ok.text
    config = ok.json()["config"]
    assert config["trading_state"] == "reducing"
    assert config["risk"]["max_order_notional_usd"] == "250.50"
    assert config["risk"]["max_open_orders"] == 20

    audit = await aether_api.get(
        "/api/v1/audit",
        params={"account_id": str(aether_seed.bob_account), "action": "account.config_updated"},
        headers=bob.headers,
    )
    [entry] = audit.json()
    assert entry["actor"] == "user:bob"
    assert entry["details"]["changes"]["risk.max_order_notional_usd"] == {
        "from": "1000.00",
        "to": "250.50",
    }

    invalid = await aether_api.patch(
        url, json={"risk": {"max_open_orders": 0}}, headers=bob.headers
    )
    assert invalid.status_code == 422
    assert "max_open_orders" in invalid.text

    trader = await aether_api.patch(
        f"/api/v1/accounts/{aether_seed.alice_account}/config",
        json={"trading_state": "halted"},
        headers=alice.headers,
    )
    assert trader.status_code == 403
    assert "admin" in trader.json()["error"]["message"]


async def test_bad_input_gets_4xx_naming_the_field(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.admin.headers
    url = f"/api/v1/accounts/{aether_seed.company}/config"
    cases = [
        (
            await aether_api.patch(
                url, json={"risk": {"max_open_orders": "many"}}, headers=headers
            ),
            "body.risk.max_open_orders",
        ),
        (
            await aether_api.patch(url, json={"risk": {"surprise": 1}}, headers=headers),
            "body.risk.surprise",
        ),
        (
            await aether_api.patch(url, json={"trading_state": "paused"}, headers=headers),
            "body.trading_state",
        ),
        (await aether_api.get("/api/v1/accounts/not-a-uuid", headers=headers), "path.account_id"),
        (
            await aether_api.post("/api/v1/accounts", json={"name": ""}, headers=headers),
            "body.name",
        ),
        (await aether_api.get("/api/v1/audit?limit=0", headers=headers), "query.limit"),
    ]
    for response, field in cases:
        assert response.status_code == 422, (field, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [f["field"] for f in error["fields"]], (field, error)
        assert "Traceback" not in response.text

    malformed = await aether_api.post(
        "/api/v1/accounts",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["fields"][0]["field"].startswith("body")


async def test_oversized_bodies_are_refused(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    response = await aether_api.post(
        "/api/v1/accounts",
        content=big,
        headers={**aether_seed.admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_errors_carry_the_request_id(aether_api: httpx.AsyncClient) -> None:
    response = await aether_api.get("/api/v1/accounts", headers={"X-Request-ID": "trace-12345678"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "trace-12345678"
    assert response.json()["error"]["request_id"] == "trace-12345678"
    unknown = await aether_api.get("/nowhere")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


async def test_an_amount_in_exponent_notation_is_stored_as_cents(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    response = await aether_api.patch(
        f"/api/v1/accounts/{aether_seed.company}/config",
        json={"risk": {"max_order_notional_usd": "1e3", "daily_drawdown_limit": "5E-2"}},
        headers=aether_seed.admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["config"]["risk"]["max_order_notional_usd"] == "1000.00"
    stored = await aether_pg.fetchval(
        "SELECT config->'risk' FROM accounts WHERE id = $1", aether_seed.company
    )
    risk = json.loads(stored)
    assert risk["max_order_notional_usd"] == "1000.00"
    assert risk["daily_drawdown_limit"] == "0.05"


HEDGE_REFUSED = "not available yet: hedging arrives with the hedge controller"


async def test_a_hedge_section_is_refused_naming_the_field(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    headers = aether_seed.admin.headers
    cases = [
        (
            await aether_api.patch(
                f"/api/v1/accounts/{aether_seed.company}/config",
                json={"hedge": {"mode": "off"}, "risk": {"max_open_orders": 5}},
                headers=headers,
            ),
            "body.hedge",
        ),
        (
            await aether_api.post(
                "/api/v1/accounts",
                json={"name": "Hedged", "config": {"hedge": {"mode": "auto"}}},
                headers=headers,
            ),
            "body.config.hedge",
        ),
    ]
    for response, field in cases:
        assert response.status_code == 422, response.text
        fields = response.json()["error"]["fields"]
        assert {"field": field, "message": HEDGE_REFUSED} in fields, fields
    # Nothing was half-applied.
    stored = json.loads(
        await aether_pg.fetchval("SELECT config FROM accounts WHERE id = $1", aether_seed.company)
    )
    assert stored["risk"]["max_open_orders"] == 20
    assert await aether_pg.fetchval("SELECT count(*) FROM accounts WHERE name = 'Hedged'") == 0


async def test_new_accounts_store_no_hedge_section(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    created = await aether_api.post(
        "/api/v1/accounts", json={"name": "Plain"}, headers=aether_seed.admin.headers
    )
    assert created.status_code == 201, created.text
    assert "hedge" not in created.json()["config"]
    stored = await aether_pg.fetch("SELECT name, config ? 'hedge' AS hedged FROM accounts")
    assert {r["name"] for r in stored} == {"Company", "Director A", "Director B", "Plain"}
    assert not any(r["hedged"] for r in stored)


OLD_DEFAULT_HEDGE = '{"mode": "auto", "manual_usd_fraction": null}'


async def test_the_default_hedge_section_older_accounts_stored_still_loads(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    await aether_pg.execute(
        "UPDATE accounts SET config = jsonb_set(config, '{hedge}', $1::jsonb) WHERE id = $2",
        OLD_DEFAULT_HEDGE,
        aether_seed.company,
    )
    url = f"/api/v1/accounts/{aether_seed.company}"
    read = await aether_api.get(url, headers=aether_seed.admin.headers)
    assert read.status_code == 200, read.text
    assert set(read.json()["config"]) == {"trading_state", "risk", "strategy", "paper"}  # no hedge
    changed = await aether_api.patch(
        f"{url}/config", json={"risk": {"max_open_orders": 5}}, headers=aether_seed.admin.headers
    )
    assert changed.status_code == 200, changed.text
    stored = json.loads(
        await aether_pg.fetchval("SELECT config FROM accounts WHERE id = $1", aether_seed.company)
    )
    assert set(stored) == {"trading_state", "risk", "paper"}  # rewritten without it
    assert stored["risk"]["max_open_orders"] == 5


async def test_a_hedge_section_someone_set_is_refused_not_dropped(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    await aether_pg.execute(
        "UPDATE accounts SET config = jsonb_set(config, '{hedge}', $1::jsonb) WHERE id = $2",
        '{"mode": "manual", "manual_usd_fraction": "0.25"}',
        aether_seed.company,
    )
    url = f"/api/v1/accounts/{aether_seed.company}"
    headers = aether_seed.admin.headers
    for response in (
        await aether_api.get(url, headers=headers),
        await aether_api.get("/api/v1/accounts", headers=headers),
        await aether_api.patch(f"{url}/config", json={"trading_state": "halted"}, headers=headers),
    ):
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "unsupported_configuration"
        assert error["message"] == (
            f"account Company: stored configuration refused: hedge: {HEDGE_REFUSED}"
        )
    stored = json.loads(
        await aether_pg.fetchval("SELECT config FROM accounts WHERE id = $1", aether_seed.company)
    )
    assert stored["hedge"] == {"mode": "manual", "manual_usd_fraction": "0.25"}
    assert stored["trading_state"] == "active"
