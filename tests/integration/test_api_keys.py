"""API keys over the API: the secret is shown once, revocation and expiry take effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.accounts import Scope
from aether.security import key_store, users
from aether.storage.tables import ApiKeyRow
from tests.conftest import Seed


async def test_create_shows_secret_once_then_list_and_revoke(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    alice = aether_seed.alice
    created = await aether_api.post(
        "/api/v1/keys", json={"name": "laptop", "scopes": ["read"]}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["key"]
    assert token.startswith(f"aek_{body['prefix']}_")
    assert body["scopes"] == ["read"]

    listed = await aether_api.get("/api/v1/keys", headers=alice.headers)
    assert token not in listed.text
    assert body["id"] in [k["id"] for k in listed.json()]

    new_headers = {"Authorization": f"Bearer {token}"}
    assert (await aether_api.get("/api/v1/accounts", headers=new_headers)).status_code == 200
    # A read-only key cannot write, even for a user who may.
    write = await aether_api.post("/api/v1/keys", json={"name": "x"}, headers=new_headers)
    assert write.status_code == 201
    assert write.json()["scopes"] == ["read"]

    revoked = await aether_api.delete(f"/api/v1/keys/{body['id']}", headers=alice.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = await aether_api.get("/api/v1/accounts", headers=new_headers)
    assert after.status_code == 401
    assert "revoked" in after.json()["error"]["message"]


async def test_keys_cannot_escalate_scopes(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    response = await aether_api.post(
        "/api/v1/keys", json={"name": "x", "scopes": ["admin"]}, headers=aether_seed.alice.headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


async def test_users_cannot_touch_each_others_keys(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    bob_keys = (await aether_api.get("/api/v1/keys", headers=aether_seed.bob.headers)).json()
    response = await aether_api.delete(
        f"/api/v1/keys/{bob_keys[0]['id']}", headers=aether_seed.alice.headers
    )
    assert response.status_code == 404
    for_other = await aether_api.post(
        "/api/v1/keys", json={"name": "x", "user": "bob"}, headers=aether_seed.alice.headers
    )
    assert for_other.status_code == 403
    by_admin = await aether_api.post(
        "/api/v1/keys",
        json={"name": "for bob", "user": "bob", "scopes": ["read"]},
        headers=aether_seed.admin.headers,
    )
    assert by_admin.status_code == 201
    assert by_admin.json()["user_id"] == bob_keys[0]["user_id"]


async def test_expired_keys_are_refused(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    prefix = aether_seed.alice.token.split("_")[1]
    await aether_session.execute(
        update(ApiKeyRow).where(ApiKeyRow.prefix == prefix).values(expires_at=past)
    )
    await aether_session.commit()
    response = await aether_api.get("/api/v1/accounts", headers=aether_seed.alice.headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    in_past = await aether_api.post(
        "/api/v1/keys",
        json={"name": "x", "expires_at": past.isoformat()},
        headers=aether_seed.bob.headers,
    )
    assert in_past.status_code == 422


async def test_last_used_is_recorded(aether_api: httpx.AsyncClient, aether_seed: Seed) -> None:
    await aether_api.get("/api/v1/accounts", headers=aether_seed.bob.headers)
    keys = (await aether_api.get("/api/v1/keys", headers=aether_seed.bob.headers)).json()
    assert keys[0]["last_used_at"] is not None


async def test_the_last_admin_key_of_the_platform_administrators_cannot_be_revoked(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    root = aether_seed.admin.headers
    [only] = (await aether_api.get("/api/v1/keys", headers=root)).json()
    # A non-administrator's admin-scoped key, and an expired admin key of root, are no way
    # back in: neither counts.
    assert (
        "admin"
        in (await aether_api.get("/api/v1/keys", headers=aether_seed.bob.headers)).json()[0][
            "scopes"
        ]
    )
    root_user = await users.get_by_name(aether_session, "root")
    expired, _ = await key_store.issue(
        aether_session,
        user_id=root_user.id,
        name="expired",
        scopes=[Scope.ADMIN, Scope.READ],
        expires_at=datetime.now(UTC) - timedelta(days=1),
        actor="system:test",
    )
    await aether_session.commit()

    refused = await aether_api.delete(f"/api/v1/keys/{only['id']}", headers=root)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "last_admin_key"
    assert "lock every administrator out" in error["message"]
    assert (await aether_api.get("/api/v1/accounts", headers=root)).status_code == 200

    # With a second valid admin key the first may go, and then the second is the last.
    second = await aether_api.post(
        "/api/v1/keys", json={"name": "spare", "scopes": ["admin", "read"]}, headers=root
    )
    assert second.status_code == 201
    spare = {"Authorization": f"Bearer {second.json()['key']}"}
    assert (await aether_api.delete(f"/api/v1/keys/{only['id']}", headers=spare)).status_code == 200
    last = await aether_api.delete(f"/api/v1/keys/{second.json()['id']}", headers=spare)
    assert last.status_code == 409
    # Keys that are no way in may always be revoked.
    assert (await aether_api.delete(f"/api/v1/keys/{expired.id}", headers=spare)).status_code == 200
