"""The credential vault through the API, against a real database and the Kraken emulator:
upload (validated with the venue), metadata, rotation, refusals, and access across accounts."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import asyncpg
import pytest

from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from aether.security import vault
from aether.security.envelope import EnvelopeError
from aether.security.kek import resolve_kek_ring
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import running_app
from tests.integration.vault_helpers import (
    audit_actions,
    stored_row,
    vault_session,
    vault_settings,
)
from tests.support.network import free_port

METADATA = {
    "account_id",
    "venue",
    "key_prefix",
    "permissions",
    "kek_id",
    "created_at",
    "created_by",
    "validated_at",
    "rewrapped_at",
}


def path(account: object) -> str:
    return f"/api/v1/accounts/{account}/credentials"


async def test_upload_validates_stores_sealed_and_shows_only_metadata(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    aether_audit_key: AuditKey,
    tmp_path: Path,
) -> None:
    kraken = emulator.account(USD="1000")
    settings = vault_settings(tmp_path, emulator.url)
    account, admin = aether_seed.bob_account, aether_seed.bob
    async with running_app(settings, aether_urls) as (_, client):
        assert (await client.get(path(account), headers=admin.headers)).status_code == 404
        put = await client.put(
            path(account),
            json={"api_key": kraken.key, "api_secret": kraken.secret},
            headers=admin.headers,
        )
        assert put.status_code == 200, put.text
        got = await client.get(path(account), headers=admin.headers)
    ring = resolve_kek_ring(settings)
    body = put.json()
    assert set(body) == METADATA
    assert body["key_prefix"] == kraken.key[: vault.KEY_PREFIX_CHARS]
    # The emulator reports no permission list: these are what the read-only calls proved.
    assert body["permissions"] == ["query_closed_orders", "query_funds", "query_open_orders"]
    assert body["kek_id"] == ring.current.kek_id
    assert body["created_by"] == "user:bob"
    assert got.status_code == 200
    assert got.json() == body

    row = await stored_row(aether_pg, account)
    assert row is not None
    for part in (row["ciphertext"], row["wrapped_key"]):
        assert kraken.secret.encode() not in part
        assert kraken.key.encode() not in part
    assert await audit_actions(aether_pg) == ["credential.stored"]

    async with vault_session(aether_urls.database_url, aether_audit_key, ring) as session:
        opened = await vault.credentials_for(session, account, actor="system:test")
        await session.commit()
    assert (opened.api_key, opened.api_secret) == (kraken.key, kraken.secret)
    assert await audit_actions(aether_pg) == ["credential.stored", "credential.read"]


async def test_refused_credentials_name_the_field_and_store_nothing(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    kraken = emulator.account(USD="10")
    someone_else = emulator.account(USD="10")
    account, admin = aether_seed.bob_account, aether_seed.bob
    unknown_key = base64.b64encode(os.urandom(42)).decode()
    cases = [
        ({"api_key": unknown_key, "api_secret": kraken.secret}, "body.api_key", 422),
        ({"api_key": kraken.key, "api_secret": someone_else.secret}, "body.api_secret", 422),
        ({"api_key": kraken.key, "api_secret": "not%base64" * 3}, "body.api_secret", 422),
        ({"api_key": kraken.key, "api_secret": "QUJD" * 5 + "A"}, "body.api_secret", 422),
        ({"api_key": "short", "api_secret": kraken.secret}, "body.api_key", 422),
        ({"api_key": kraken.key}, "body.api_secret", 422),
    ]
    async with running_app(vault_settings(tmp_path, emulator.url), aether_urls) as (_, client):
        for payload, field, status in cases:
            response = await client.put(path(account), json=payload, headers=admin.headers)
            assert response.status_code == status, (field, response.text)
            fields = [f["field"] for f in response.json()["error"]["fields"]]
            assert fields == [field], response.text
        assert (await client.get(path(account), headers=admin.headers)).status_code == 404
    assert await stored_row(aether_pg, account) is None
    assert await audit_actions(aether_pg) == []


async def test_a_silent_venue_is_a_502_and_nothing_is_stored(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    kraken = emulator.account(USD="10")
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_app(vault_settings(tmp_path, nowhere), aether_urls) as (_, client):
        response = await client.put(
            path(aether_seed.bob_account),
            json={"api_key": kraken.key, "api_secret": kraken.secret},
            headers=aether_seed.bob.headers,
        )
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert await stored_row(aether_pg, aether_seed.bob_account) is None


async def test_credentials_never_cross_accounts_and_upload_needs_the_admin_role(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    kraken = emulator.account(USD="10")
    pair = {"api_key": kraken.key, "api_secret": kraken.secret}
    alice, bob = aether_seed.alice, aether_seed.bob
    async with running_app(vault_settings(tmp_path, emulator.url), aether_urls) as (_, client):
        stored = await client.put(path(aether_seed.bob_account), json=pair, headers=bob.headers)
        assert stored.status_code == 200
        refusals = [
            await client.get(path(aether_seed.bob_account), headers=alice.headers),
            await client.put(path(aether_seed.bob_account), json=pair, headers=alice.headers),
            await client.put(path(aether_seed.alice_account), json=pair, headers=bob.headers),
            await client.get(path(aether_seed.company), headers=bob.headers),
            # Alice trades on her own account but does not administer it.
            await client.put(path(aether_seed.alice_account), json=pair, headers=alice.headers),
        ]
        own = await client.get(path(aether_seed.alice_account), headers=alice.headers)
    assert [r.status_code for r in refusals] == [403] * 5
    assert all(r.json()["error"]["code"] == "forbidden" for r in refusals)
    assert own.status_code == 404  # she may look; nothing is stored for her account


async def test_rotation_replaces_the_credential_in_one_step(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    aether_audit_key: AuditKey,
    tmp_path: Path,
) -> None:
    first, second = emulator.account(USD="10"), emulator.account(USD="20")
    settings = vault_settings(tmp_path, emulator.url)
    account, admin = aether_seed.company, aether_seed.admin
    async with running_app(settings, aether_urls) as (_, client):
        for kraken in (first, second):
            response = await client.put(
                path(account),
                json={"api_key": kraken.key, "api_secret": kraken.secret},
                headers=admin.headers,
            )
            assert response.status_code == 200, response.text
        shown = (await client.get(path(account), headers=admin.headers)).json()
    assert shown["key_prefix"] == second.key[: vault.KEY_PREFIX_CHARS]
    count = await aether_pg.fetchval("SELECT count(*) FROM kraken_credentials")
    assert count == 1
    assert await audit_actions(aether_pg) == ["credential.stored", "credential.rotated"]
    details = await aether_pg.fetchval(
        "SELECT details FROM audit_log WHERE action = 'credential.rotated'"
    )
    assert first.key[: vault.KEY_PREFIX_CHARS] in details
    async with vault_session(
        aether_urls.database_url, aether_audit_key, resolve_kek_ring(settings)
    ) as session:
        opened = await vault.credentials_for(session, account)
    assert (opened.api_key, opened.api_secret) == (second.key, second.secret)


async def test_a_credential_moved_to_another_account_does_not_open(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_owner_pg: asyncpg.Connection,
    aether_audit_key: AuditKey,
    tmp_path: Path,
) -> None:
    """Someone with write access to the table copies Bob's sealed credential onto Alice's
    account: the vault refuses to open it there."""
    kraken = emulator.account(USD="10")
    settings = vault_settings(tmp_path, emulator.url)
    async with running_app(settings, aether_urls) as (_, client):
        response = await client.put(
            path(aether_seed.bob_account),
            json={"api_key": kraken.key, "api_secret": kraken.secret},
            headers=aether_seed.bob.headers,
        )
        assert response.status_code == 200
    await aether_owner_pg.execute(
        "INSERT INTO kraken_credentials SELECT $1, key_prefix, ciphertext, wrapped_key, kek_id, "
        "permissions, created_at, created_by, validated_at, rewrapped_at "
        "FROM kraken_credentials WHERE account_id = $2",
        aether_seed.alice_account,
        aether_seed.bob_account,
    )
    ring = resolve_kek_ring(settings)
    async with vault_session(aether_urls.database_url, aether_audit_key, ring) as session:
        with pytest.raises(EnvelopeError, match="cannot decrypt"):
            await vault.credentials_for(session, aether_seed.alice_account)
