"""The instrument registry over a real emulator and database: load, listing, refresh,
readiness, and what happens to pairs that go away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from aether.marketdata.assembly import registry_config
from aether.marketdata.registry import InstrumentRegistry
from aether.ops.endpoints import ServerUrls
from aether.storage.database import create_engine, session_factory
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import (
    loaded,
    market_settings,
    running_app,
    state_of,
)
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def emulator(five_pair_emulator: Emulator) -> Emulator:
    """The followers are what this module tests: the five-pair emulator replaces the two-pair."""
    return five_pair_emulator


@pytest.fixture
def healthy(emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator with no faults before and after the test."""
    emulator.http.post("/emulator/faults", json={"clear": True})
    yield emulator
    emulator.http.post("/emulator/faults", json={"clear": True})


async def test_instruments_list_online_usd_pairs_with_text_decimals(
    healthy: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = market_settings(tmp_path, healthy.url, market_seed_symbols=[])
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        response = await client.get("/api/v1/instruments", headers=aether_seed.alice.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["refreshed_at"]) <= datetime.now(UTC)
    by_symbol = {i["symbol"]: i for i in body["instruments"]}
    # The emulator's five traded USD pairs and a listed stablecoin; XBTEUR, ETHXBT: not USD.
    traded = {"XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "ADAUSD"}
    assert set(by_symbol) == traded | {"USDTUSD"}
    xbt = by_symbol["XBTUSD"]
    assert (xbt["ws_symbol"], xbt["base"], xbt["quote"], xbt["status"]) == (
        "BTC/USD",
        "XBT",
        "USD",
        "online",
    )
    for field in ("tick_size", "lot_size", "min_quantity", "min_cost"):
        assert isinstance(xbt[field], str), field
        assert "E" not in xbt[field], field
    assert xbt["lot_size"] == "0.00000001"
    keys = {symbol: i["pair_key"] for symbol, i in by_symbol.items()}
    assert keys == {
        "XBTUSD": "XXBTZUSD",
        "ETHUSD": "XETHZUSD",
        "SOLUSD": "SOLUSD",
        "XRPUSD": "XXRPZUSD",
        "ADAUSD": "ADAUSD",
        "USDTUSD": "USDTZUSD",
    }
    assert xbt["fees"]
    assert all(isinstance(v, str) for v in xbt["fees"][0].values())


async def test_readyz_is_not_ready_until_the_first_load_then_ready(
    healthy: Emulator, aether_urls: ServerUrls, tmp_path: Path
) -> None:
    failing = {"rest_error": "EService:Unavailable", "count": 1000, "scope": "public"}
    assert healthy.http.post("/emulator/faults", json=failing).status_code == 200
    settings = market_settings(tmp_path, healthy.url, market_seed_symbols=[])
    async with running_app(settings, aether_urls) as (app, client):
        market = state_of(app).market
        assert market is not None
        await eventually(lambda: market.registry.last_error is not None)
        before = (await client.get("/readyz")).json()
        assert "instruments" in before["failing"]
        detail = before["checks"]["instruments"]["detail"]
        assert "not loaded yet" in detail
        assert "EService:Unavailable" in detail
        healthy.http.post("/emulator/faults", json={"clear": True})
        await loaded(app)
        after = (await client.get("/readyz")).json()
    assert after["checks"]["instruments"]["ok"] is True
    assert "instruments" not in after["failing"]
    assert "6 online pairs" in after["checks"]["instruments"]["detail"]


async def test_refresh_needs_a_platform_admin_and_is_audited(
    healthy: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = market_settings(tmp_path, healthy.url, market_seed_symbols=[])
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        refused = await client.post("/api/v1/instruments/refresh", headers=aether_seed.bob.headers)
        done = await client.post("/api/v1/instruments/refresh", headers=aether_seed.admin.headers)
        audit = await client.get(
            "/api/v1/audit",
            params={"action": "instruments.refreshed"},
            headers=aether_seed.admin.headers,
        )
        healthy.http.post(
            "/emulator/faults", json={"rest_error": "EService:Unavailable", "count": 10}
        )
        failed = await client.post("/api/v1/instruments/refresh", headers=aether_seed.admin.headers)
        listing = await client.get("/api/v1/instruments", headers=aether_seed.admin.headers)
    assert refused.status_code == 403
    assert done.status_code == 200, done.text
    summary = done.json()
    assert summary["kept"] == ["ADAUSD", "ETHUSD", "SOLUSD", "USDTUSD", "XBTUSD", "XRPUSD"]
    assert summary["skipped"] == {
        "XBTEUR": "quoted in EUR, not USD",
        "ETHXBT": "quoted in XBT, not USD",
    }
    assert [e["actor"] for e in audit.json()] == ["user:root"]
    assert failed.status_code == 502
    assert "EService:Unavailable" in failed.json()["error"]["message"]
    # A failed load keeps the rows of the last good one.
    assert len(listing.json()["instruments"]) == 6


async def test_pairs_that_disappear_keep_their_row_with_the_reason(
    healthy: Emulator, aether_db_url: str, tmp_path: Path
) -> None:
    """Drive the registry with a changing AssetPairs answer (the emulator's list is fixed)."""
    pairs = healthy.public("AssetPairs")["result"]
    answers = [pairs, {k: v for k, v in pairs.items() if v["altname"] != "ETHUSD"}]
    answers.append({**answers[1], "XXBTZUSD": {**pairs["XXBTZUSD"], "status": "cancel_only"}})

    async def next_answer() -> dict[str, object]:
        return answers.pop(0)

    engine = create_engine(aether_db_url, pool_size=2)
    try:
        registry = InstrumentRegistry(
            registry_config(market_settings(tmp_path, healthy.url)),
            session_factory(engine),
            source=next_answer,
        )
        assert registry.readiness()[0] is False
        first = await registry.refresh()
        second = await registry.refresh()
        third = await registry.refresh()
        assert registry.readiness()[0] is True
    finally:
        await engine.dispose()
    assert first.kept == ("ADAUSD", "ETHUSD", "SOLUSD", "USDTUSD", "XBTUSD", "XRPUSD")
    assert second.delisted == ("ETHUSD",)
    assert third.kept == ("ADAUSD", "SOLUSD", "USDTUSD", "XRPUSD")
    assert registry.online == frozenset({"ADAUSD", "SOLUSD", "USDTUSD", "XRPUSD"})
    conn = await asyncpg.connect(aether_db_url)
    try:
        statuses = dict(await conn.fetch("SELECT symbol, status FROM instruments"))
        loads = await conn.fetch("SELECT kept, skipped FROM instrument_refreshes ORDER BY id")
    finally:
        await conn.close()
    assert statuses == {
        "USDTUSD": "online",
        "SOLUSD": "online",
        "XRPUSD": "online",
        "ADAUSD": "online",
        "ETHUSD": "not listed",
        "XBTUSD": "skipped: status is 'cancel_only', not online",
    }
    assert [row["kept"] for row in loads] == [6, 5, 4]
    assert '"ETHUSD": "not listed"' in loads[1]["skipped"]
