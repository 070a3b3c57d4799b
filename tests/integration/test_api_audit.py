"""Audit over the API: filters, paging, and chain verification for platform admins."""

from __future__ import annotations

import httpx

from tests.conftest import Seed


async def test_query_filters_and_pages(aether_api: httpx.AsyncClient, aether_seed: Seed) -> None:
    headers = aether_seed.admin.headers
    everything = (await aether_api.get("/api/v1/audit?limit=1000", headers=headers)).json()
    seqs = [r["seq"] for r in everything]
    assert seqs == sorted(seqs)
    assert any(r["account_id"] is None for r in everything)  # platform-wide rows for admins
    first = (await aether_api.get("/api/v1/audit?limit=2", headers=headers)).json()
    second = (
        await aether_api.get(f"/api/v1/audit?limit=2&after_seq={first[-1]['seq']}", headers=headers)
    ).json()
    assert [r["seq"] for r in first + second] == seqs[:4]
    created = (await aether_api.get("/api/v1/audit?action=account.created", headers=headers)).json()
    assert [r["details"]["name"] for r in created] == ["Company", "Director A", "Director B"]
    by_actor = (await aether_api.get("/api/v1/audit?actor=user:nobody", headers=headers)).json()
    assert by_actor == []


async def test_non_admins_see_no_platform_wide_rows(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    rows = (await aether_api.get("/api/v1/audit", headers=aether_seed.bob.headers)).json()
    assert rows
    assert all(r["account_id"] == str(aether_seed.bob_account) for r in rows)


async def test_verify_is_for_platform_admins(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    ok = await aether_api.post("/api/v1/audit/verify", headers=aether_seed.admin.headers)
    assert ok.status_code == 200
    assert ok.json()["ok"] is True
    assert ok.json()["rows"] > 5
    refused = await aether_api.post("/api/v1/audit/verify", headers=aether_seed.bob.headers)
    assert refused.status_code == 403
