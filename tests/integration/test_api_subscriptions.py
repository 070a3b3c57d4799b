"""Subscriptions: validation naming the pair, admin-only changes, the control message on real
NATS, the first-start seed, and survival across an app restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as Nats

from aether.bus.barrier import barrier
from aether.bus.subjects import SUBSCRIPTIONS_CHANGED
from aether.ops.endpoints import ServerUrls
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import loaded, market_settings, running_app


@pytest.fixture
async def bus(aether_urls: ServerUrls) -> AsyncIterator[Nats]:
    client = await nats.connect(aether_urls.nats_url)
    try:
        yield client
    finally:
        await client.close()


async def announcements(bus: Nats) -> asyncio.Queue[dict[str, object]]:
    """Every message on the subscriptions-changed subject from now on, decoded."""
    received: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def collect(msg: nats.aio.msg.Msg) -> None:
        await received.put(json.loads(msg.data))

    await bus.subscribe(SUBSCRIPTIONS_CHANGED, cb=collect)
    await barrier(bus, timeout=15)
    return received


async def _next(queue: asyncio.Queue[dict[str, object]]) -> dict[str, object]:
    async with asyncio.timeout(15):
        return await queue.get()


async def test_unknown_and_non_usd_pairs_and_bad_kinds_are_422_naming_them(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=[])
    admin = aether_seed.admin.headers
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        answers = {
            symbol: await client.post(
                "/api/v1/subscriptions", json={"symbol": symbol, "kinds": ["trade"]}, headers=admin
            )
            for symbol in ("ETHXBT", "XBTEUR", "FOOUSD", "ETH/BTC", "XETHXXBT")
        }
        bad_kind = await client.post(
            "/api/v1/subscriptions",
            json={"symbol": "XBTUSD", "kinds": ["trade", "candles"]},
            headers=admin,
        )
        empty = await client.post(
            "/api/v1/subscriptions", json={"symbol": "XBTUSD", "kinds": []}, headers=admin
        )
        listing = await client.get("/api/v1/subscriptions", headers=aether_seed.alice.headers)
    for symbol, response in answers.items():
        assert response.status_code == 422, (symbol, response.text)
        error = response.json()["error"]
        assert symbol in error["message"]
        assert error["fields"][0]["field"] == "body.symbol"
    assert "quoted in XBT, not USD" in answers["ETHXBT"].json()["error"]["message"]
    for symbol in ("FOOUSD", "ETH/BTC", "XETHXXBT"):
        message = answers[symbol].json()["error"]["message"]
        assert message.startswith(f"{symbol!r} is not a USD pair of the instrument registry")
    assert bad_kind.status_code == 422
    assert "'candles'" in bad_kind.json()["error"]["message"]
    assert bad_kind.json()["error"]["fields"][0]["field"] == "body.kinds"
    assert empty.status_code == 422
    assert listing.status_code == 200
    assert listing.json() == []


async def test_changes_need_a_platform_admin_and_reading_needs_read(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=[])
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        body = {"symbol": "XBTUSD", "kinds": ["trade"]}
        as_bob = await client.post(
            "/api/v1/subscriptions", json=body, headers=aether_seed.bob.headers
        )
        delete_as_alice = await client.delete(
            "/api/v1/subscriptions/XBTUSD", headers=aether_seed.alice.headers
        )
        missing = await client.delete(
            "/api/v1/subscriptions/XBTUSD", headers=aether_seed.admin.headers
        )
    assert as_bob.status_code == 403  # an account admin, but not a platform admin
    assert delete_as_alice.status_code == 403
    assert missing.status_code == 404


async def test_post_and_delete_are_stored_audited_and_announced(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, bus: Nats, tmp_path: Path
) -> None:
    received = await announcements(bus)
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=[])
    admin = aether_seed.admin.headers
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        created = await client.post(
            "/api/v1/subscriptions",
            json={"symbol": "XBTUSD", "kinds": ["ohlc", "trade", "trade"]},
            headers=admin,
        )
        on_create = await _next(received)
        changed = await client.post(
            "/api/v1/subscriptions", json={"symbol": "XBTUSD", "kinds": ["book"]}, headers=admin
        )
        on_change = await _next(received)
        listing = (await client.get("/api/v1/subscriptions", headers=admin)).json()
        removed = await client.delete("/api/v1/subscriptions/XBTUSD", headers=admin)
        on_delete = await _next(received)
        audit = (
            await client.get(
                "/api/v1/audit", params={"action": "market_subscription.set"}, headers=admin
            )
        ).json()
        audit += (
            await client.get(
                "/api/v1/audit", params={"action": "market_subscription.removed"}, headers=admin
            )
        ).json()
    assert created.status_code == 200, created.text
    assert created.json()["kinds"] == ["trade", "ohlc"]  # canonical order, no repeats
    assert created.json()["announced"] is True
    assert on_create == {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": ["trade", "ohlc"]}
    assert changed.json()["kinds"] == ["book"]
    assert on_change["kinds"] == ["book"]
    assert [(s["symbol"], s["kinds"], s["created_by"]) for s in listing] == [
        ("XBTUSD", ["book"], "user:root")
    ]
    assert removed.status_code == 200
    assert on_delete == {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": []}
    assert [e["action"] for e in audit] == [
        "market_subscription.set",
        "market_subscription.set",
        "market_subscription.removed",
    ]
    assert audit[1]["details"]["previous_kinds"] == ["trade", "ohlc"]


async def test_common_spellings_subscribe_and_unsubscribe_the_altname(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, bus: Nats, tmp_path: Path
) -> None:
    received = await announcements(bus)
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=[])
    admin = aether_seed.admin.headers
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        created = await client.post(
            "/api/v1/subscriptions", json={"symbol": "BTC/USD", "kinds": ["trade"]}, headers=admin
        )
        on_create = await _next(received)
        changed = await client.post(
            "/api/v1/subscriptions", json={"symbol": "xxbtzusd", "kinds": ["book"]}, headers=admin
        )
        on_change = await _next(received)
        listing = (await client.get("/api/v1/subscriptions", headers=admin)).json()
        unknown = await client.delete("/api/v1/subscriptions/ETH%2FBTC", headers=admin)
        removed = await client.delete("/api/v1/subscriptions/BTC%2FUSD", headers=admin)
        on_delete = await _next(received)
        again = await client.delete("/api/v1/subscriptions/xbt-usd", headers=admin)
    assert created.status_code == 200, created.text
    assert (created.json()["symbol"], created.json()["ws_symbol"]) == ("XBTUSD", "BTC/USD")
    assert on_create == {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": ["trade"]}
    assert changed.status_code == 200, changed.text
    assert changed.json()["symbol"] == "XBTUSD"
    assert on_change == {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": ["book"]}
    assert [(s["symbol"], s["kinds"]) for s in listing] == [("XBTUSD", ["book"])]
    assert unknown.status_code == 422, unknown.text
    error = unknown.json()["error"]
    assert error["message"].startswith("'ETH/BTC' is not a USD pair of the instrument registry")
    assert error["fields"][0]["field"] == "path.symbol"
    assert removed.status_code == 200, removed.text
    assert removed.json()["symbol"] == "XBTUSD"
    assert on_delete == {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": []}
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "XBTUSD is not subscribed"


async def test_seed_on_first_start_only_and_subscriptions_survive_a_restart(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, bus: Nats, tmp_path: Path
) -> None:
    received = await announcements(bus)
    admin = aether_seed.admin.headers
    # FOOUSD is not a Kraken pair: the seed takes only what the registry lists as online.
    # BTC/USD is how an operator may spell XBTUSD in the setting.
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=["BTC/USD", "FOOUSD"])
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        seeded = await _next(received)
        assert seeded == {
            "symbol": "XBTUSD",
            "ws_symbol": "BTC/USD",
            "kinds": ["book", "trade", "ticker", "ohlc"],
        }
        added = await client.post(
            "/api/v1/subscriptions", json={"symbol": "ETHUSD", "kinds": ["trade"]}, headers=admin
        )
        assert added.status_code == 200
        removed = await client.delete("/api/v1/subscriptions/XBTUSD", headers=admin)
        assert removed.status_code == 200
    # A new app over the same database: ETHUSD is still there; XBTUSD, removed by an
    # operator, is not seeded again.
    async with running_app(settings, aether_urls) as (app, client):
        await loaded(app)
        await asyncio.sleep(0.3)  # time for a (wrong) second seed to happen
        listing = (await client.get("/api/v1/subscriptions", headers=admin)).json()
        seeds = (
            await client.get(
                "/api/v1/audit", params={"action": "market_subscription.seeded"}, headers=admin
            )
        ).json()
    assert [(s["symbol"], s["kinds"]) for s in listing] == [("ETHUSD", ["trade"])]
    assert len(seeds) == 1
    assert seeds[0]["details"]["not_online"] == ["FOOUSD"]
