"""No route answers anonymously; no account-scoped route crosses accounts."""

from __future__ import annotations

import uuid

import httpx
from fastapi import APIRouter, Depends

from aether.api.app import PUBLIC_PATHS, create_app
from aether.api.deps import Caller, authenticated
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings
from tests.conftest import Seed
from tests.route_checks import (
    anonymously_reachable,
    cross_account_reachable,
    operations,
    websocket_paths,
)


async def test_every_route_outside_the_allowlist_requires_a_key(
    aether_api: httpx.AsyncClient,
) -> None:
    app = aether_api._transport.app  # type: ignore[attr-defined]
    ops = list(operations(app))
    assert len([op for op in ops if op[1].startswith("/api/v1")]) >= 9
    assert await anonymously_reachable(aether_api, app, PUBLIC_PATHS) == []


async def test_every_websocket_route_is_one_whose_authentication_is_tested(
    aether_api: httpx.AsyncClient,
) -> None:
    """WebSockets authenticate by their first message; tests/integration/test_ws_market.py
    proves /ws/market closes every client that does not. A new WebSocket route fails here
    until it is added with a test of its own."""
    app = aether_api._transport.app  # type: ignore[attr-defined]
    assert websocket_paths(app) == {"/ws/market"}


async def test_bad_keys_are_refused_with_401(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    token = aether_seed.admin.token
    for header in (
        "Bearer nonsense",
        f"Bearer {token[:-2]}xx",
        f"Basic {token}",
        token,
        "Bearer aek_000000000000_" + "a" * 43,
    ):
        response = await aether_api.get("/api/v1/accounts", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    ok = await aether_api.get("/api/v1/accounts", headers=aether_seed.admin.headers)
    assert ok.status_code == 200


async def test_public_allowlist_is_only_operations_endpoints(aether_api: httpx.AsyncClient) -> None:
    assert {p for p in PUBLIC_PATHS if p.startswith("/api")} == set()
    assert (await aether_api.get("/healthz")).status_code == 200
    assert (await aether_api.get("/metrics")).status_code == 200


async def test_no_account_scoped_route_crosses_accounts(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    app = aether_api._transport.app  # type: ignore[attr-defined]
    scoped = [op for op in operations(app) if "{account_id}" in op[1]]
    assert len(scoped) >= 2
    alice, bob = aether_seed.alice, aether_seed.bob
    for caller, foreign in (
        (alice.headers, aether_seed.bob_account),
        (alice.headers, aether_seed.company),
        (bob.headers, aether_seed.alice_account),
        (bob.headers, uuid.uuid4()),
    ):
        assert await cross_account_reachable(aether_api, app, caller, foreign) == []
    # The same caller does reach its own account, so the refusals above are about scope.
    own = await aether_api.get(f"/api/v1/accounts/{aether_seed.bob_account}", headers=bob.headers)
    assert own.status_code == 200


async def test_audit_query_is_scoped_to_grants(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    alice = aether_seed.alice
    refused = await aether_api.get(
        "/api/v1/audit", params={"account_id": str(aether_seed.bob_account)}, headers=alice.headers
    )
    assert refused.status_code == 403
    rows = (await aether_api.get("/api/v1/audit", headers=alice.headers)).json()
    assert rows
    assert {r["account_id"] for r in rows} == {str(aether_seed.alice_account)}


async def test_checks_fail_when_a_route_forgets_its_dependency(
    aether_settings: Settings, aether_urls: ServerUrls, aether_seed: Seed
) -> None:
    """A throwaway app with two careless routes: both checks must name them."""
    app = create_app(aether_settings, aether_urls)
    careless = APIRouter(prefix="/api/v1/careless")

    @careless.get("/open")
    async def forgot_authentication() -> dict[str, str]:
        return {"secret": "anyone can read this"}

    @careless.get("/{account_id}", dependencies=[Depends(authenticated)])
    async def forgot_account_scope(account_id: uuid.UUID, caller: Caller) -> dict[str, str]:
        return {"account": str(account_id)}

    app.include_router(careless)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            anonymous = await anonymously_reachable(client, app, PUBLIC_PATHS)
            crossing = await cross_account_reachable(
                client, app, aether_seed.alice.headers, aether_seed.bob_account
            )
    assert anonymous == ["GET /api/v1/careless/open -> 200"]
    assert crossing == ["GET /api/v1/careless/{account_id} -> 200"]


async def test_authentication_comes_before_the_body(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    """An anonymous caller is not told what is wrong with its body: 401 first."""
    for method, path in (
        ("POST", "/api/v1/accounts"),
        ("POST", "/api/v1/keys"),
        ("PATCH", f"/api/v1/accounts/{aether_seed.company}/config"),
        ("POST", "/api/v1/subscriptions"),
    ):
        response = await aether_api.request(
            method, path, content=b"{", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    # With a key, the same malformed body is the 422 naming the body.
    with_key = await aether_api.post(
        "/api/v1/accounts",
        content=b"{",
        headers={**aether_seed.admin.headers, "Content-Type": "application/json"},
    )
    assert with_key.status_code == 422
    assert with_key.json()["error"]["fields"][0]["field"].startswith("body")
