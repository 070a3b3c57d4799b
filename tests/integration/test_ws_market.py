"""WS /ws/market on a real uvicorn server, real NATS and a real emulator: authentication by
first message, close reasons, subscribe/unsubscribe, fan-out, slow consumers, key limits."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nats
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aether.api.app import create_app
from aether.api.ws_market import PATH
from aether.bus.barrier import barrier
from aether.domain.accounts import Scope
from aether.ops.endpoints import ServerUrls
from aether.security import key_store, users
from aether.settings import Settings
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import loaded, market_settings, state_of
from tests.support.network import free_port
from tests.support.polling import eventually


@asynccontextmanager
async def served(settings: Settings, urls: ServerUrls) -> AsyncIterator[tuple[str, FastAPI]]:
    """The app on a real uvicorn server in this event loop; yields its ws:// URL."""
    app = create_app(settings, urls)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done())
        assert not task.done(), "the server did not start"
        await loaded(app)
        # Data published before the fan-out's bus connection exists is not delivered (by
        # design); on a slow machine that connection can come after the first client.
        market = state_of(app).market
        assert market is not None
        await eventually(lambda: market.fanout.bus_up)
        yield f"ws://127.0.0.1:{port}{PATH}", app
    finally:
        server.should_exit = True
        await task


def ws_settings(tmp_path: Path, emulator: Emulator, **overrides: Any) -> Settings:
    # No seed: the ingest publishes nothing, so every message here is the test's own.
    return market_settings(tmp_path, emulator.url, market_seed_symbols=[], **overrides)


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(15):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""

    async def drain() -> None:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()

    with pytest.raises(ConnectionClosed) as closed:
        await drain()
    received = closed.value.rcvd
    assert received is not None, "the server sent no close frame"
    return received.code, received.reason


async def authenticated(url: str, token: str, **options: Any) -> ClientConnection:
    ws = await connect(url, **options)
    await ws.send(json.dumps({"type": "auth", "api_key": token}))
    hello = await recv_json(ws)
    assert hello["type"] == "authenticated", hello
    return ws


async def test_clients_that_do_not_authenticate_properly_are_closed_with_reasons(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_session: AsyncSession,
    tmp_path: Path,
) -> None:
    alice = await users.find_by_name(aether_session, "alice")
    assert alice is not None
    _, trade_only = await key_store.issue(
        aether_session,
        user_id=alice.id,
        name="no-read",
        scopes=[Scope.TRADE],
        expires_at=None,
        actor="system:test",
    )
    await aether_session.commit()
    settings = ws_settings(tmp_path, emulator, ws_market_auth_timeout_seconds=0.5)
    async with served(settings, aether_urls) as (url, app):
        silent = await connect(url)
        late = await closed_with(silent)
        wrong = await connect(url)
        await wrong.send(json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["trade"]}))
        wrong_first = await closed_with(wrong)
        bad = await connect(url)
        await bad.send(json.dumps({"type": "auth", "api_key": aether_seed.alice.token[:-2] + "xx"}))
        bad_key = await closed_with(bad)
        in_query = await connect(f"{url}?api_key={aether_seed.alice.token}")
        query = await closed_with(in_query)
        no_read = await connect(url)
        await no_read.send(json.dumps({"type": "auth", "api_key": trade_only.token}))
        forbidden = await closed_with(no_read)
        metrics = state_of(app).metrics.render().decode()
    assert late == (4008, "no auth message within 0.5s")
    assert wrong_first[0] == 4000
    assert '"auth"' in wrong_first[1]
    assert bad_key == (4001, "invalid API key")
    assert query[0] == 4002
    assert "query string" in query[1]
    assert forbidden == (4003, "this API key lacks the 'read' scope")
    assert aether_seed.alice.token not in metrics
    assert 'aether_ws_market_dropped_total{reason="auth_timeout"} 1.0' in metrics


async def test_subscribed_kinds_arrive_unchanged_and_unsubscribe_stops_them(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    bus = await nats.connect(aether_urls.nats_url)
    try:
        async with served(ws_settings(tmp_path, emulator), aether_urls) as (url, app):
            ws = await authenticated(url, aether_seed.alice.token)
            await ws.send(json.dumps({"type": "subscribe", "symbol": "FOOUSD", "kinds": ["trade"]}))
            unknown_pair = await recv_json(ws)
            await ws.send(json.dumps({"type": "subscribe", "symbol": "ETHUSD", "kinds": ["bar"]}))
            unknown_kind = await recv_json(ws)
            await ws.send("not json")
            not_json = await recv_json(ws)
            await ws.send(
                json.dumps({"type": "subscribe", "symbol": "ETHUSD", "kinds": ["trade", "status"]})
            )
            ack = await recv_json(ws)
            payload = b'{"type":"trade","symbol":"ETHUSD","price":"3000.10"}'
            await bus.publish("md.kraken.ETHUSD.book", b'{"not":"subscribed"}')
            await bus.publish("md.kraken.ETHUSD.trade", payload)
            await barrier(bus, timeout=15)  # the test's own client buffers too: it was sent
            async with asyncio.timeout(15):
                forwarded = await ws.recv()
            await ws.send(
                json.dumps({"type": "unsubscribe", "symbol": "ETHUSD", "kinds": ["trade"]})
            )
            unsubscribed = await recv_json(ws)
            await bus.publish("md.kraken.ETHUSD.trade", payload)
            await barrier(bus, timeout=15)
            await ws.send(json.dumps({"type": "ping"}))
            after = await recv_json(ws)
            snapshot = state_of(app).market.fanout.snapshot()  # type: ignore[union-attr]
            await ws.close()
    finally:
        await bus.close()
    assert unknown_pair["type"] == "error"
    assert "FOOUSD" in unknown_pair["message"]
    assert unknown_kind["type"] == "error"
    assert "'bar'" in unknown_kind["message"]
    assert not_json["type"] == "error"
    assert ack == {
        "type": "ack",
        "op": "subscribe",
        "symbol": "ETHUSD",
        "kinds": ["trade", "status"],
    }
    assert forwarded == payload.decode()  # the bus payload, byte for byte
    assert unsubscribed["kinds"] == ["trade"]
    assert after == {"type": "pong"}  # the trade published after the unsubscribe never came
    assert snapshot["subjects"] == ["md.kraken.ETHUSD.status"]


async def test_a_slow_consumer_is_dropped_without_slowing_the_others(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = ws_settings(tmp_path, emulator, ws_market_queue_size=10)
    subscribe = json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["book"]})
    big = b'{"pad":"' + b"x" * 60_000 + b'"}'
    count = 400
    bus = await nats.connect(aether_urls.nats_url)
    try:
        async with served(settings, aether_urls) as (url, app):
            # A client that stops reading: at most one frame queued, and a small fixed socket
            # buffer (loopback would otherwise auto-tune to tens of megabytes).
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
            # No compression either: the padding would shrink to nothing.
            slow = await authenticated(
                url,
                aether_seed.alice.token,
                sock=sock,
                max_queue=1,
                max_size=None,
                compression=None,
            )
            fast = await authenticated(url, aether_seed.admin.token, max_size=None)
            for ws in (slow, fast):
                await ws.send(subscribe)
                assert (await recv_json(ws))["type"] == "ack"
            got = 0

            async def read_fast() -> None:
                nonlocal got
                while got < count:
                    await fast.recv()
                    got += 1

            reader = asyncio.create_task(read_fast())
            for _ in range(count):
                await bus.publish("md.kraken.XBTUSD.book", big)
            await barrier(bus, timeout=15)
            async with asyncio.timeout(20):
                await reader
            code, reason = await closed_with(slow)
            metrics = state_of(app).metrics.render().decode()
            await fast.close()
    finally:
        await bus.close()
    assert (code, reason) == (4009, "slow consumer")
    assert got == count
    assert 'aether_ws_market_dropped_total{reason="slow_consumer"} 1.0' in metrics


async def test_connections_per_key_are_limited(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    settings = ws_settings(tmp_path, emulator, ws_market_max_connections_per_key=1)
    token = aether_seed.alice.token
    async with served(settings, aether_urls) as (url, app):
        first = await authenticated(url, token)
        second = await connect(url)
        await second.send(json.dumps({"type": "auth", "api_key": token}))
        refused = await closed_with(second)
        other_key = await authenticated(url, aether_seed.admin.token)
        connected = "aether_ws_market_clients 2.0" in state_of(app).metrics.render().decode()
        await first.close()
        await eventually(lambda: state_of(app).market.fanout.client_count == 1)  # type: ignore[union-attr]
        third = await authenticated(url, token)  # the slot is free again
        await third.close()
        await other_key.close()
    assert refused == (4029, "too many connections for this API key (limit 1)")
    assert connected


async def test_live_ticks_from_the_emulator_reach_a_client_and_readyz_turns_ready(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    """The whole path: emulator -> ingest -> NATS -> this WebSocket, seeded on first start."""
    settings = market_settings(tmp_path, emulator.url, market_seed_symbols=["XBTUSD"])
    async with served(settings, aether_urls) as (url, app):
        ws = await authenticated(url, aether_seed.alice.token)
        await ws.send(json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["ticker"]}))
        assert (await recv_json(ws))["type"] == "ack"
        async with asyncio.timeout(15):
            tick = json.loads(await ws.recv())
        market = state_of(app).market
        assert market is not None
        ready = await eventually(lambda: market.ingest_readiness()[0], within=15)
        await ws.close()
    assert "XBTUSD" in json.dumps(tick)
    assert ready


async def test_pairs_are_accepted_in_any_common_spelling_and_acked_by_altname(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    bus = await nats.connect(aether_urls.nats_url)
    answers: dict[str, dict[str, Any]] = {}
    try:
        async with served(ws_settings(tmp_path, emulator), aether_urls) as (url, _app):
            ws = await authenticated(url, aether_seed.alice.token)
            for typed in ("ETH/BTC", "XETHXXBT", "FOOUSD", "BTC/USD"):
                await ws.send(
                    json.dumps({"type": "subscribe", "symbol": typed, "kinds": ["trade"]})
                )
                answers[typed] = await recv_json(ws)
            ack = answers.pop("BTC/USD")
            payload = b'{"type":"trade","symbol":"XBTUSD","price":"97000.1"}'
            await bus.publish("md.kraken.XBTUSD.trade", payload)
            await barrier(bus, timeout=15)
            async with asyncio.timeout(15):
                forwarded = await ws.recv()
            unsubscribe = {"type": "unsubscribe", "symbol": "xxbtzusd", "kinds": ["trade"]}
            await ws.send(json.dumps(unsubscribe))
            unsubscribed = await recv_json(ws)
            await ws.close()
    finally:
        await bus.close()
    assert ack == {"type": "ack", "op": "subscribe", "symbol": "XBTUSD", "kinds": ["trade"]}
    assert forwarded == payload.decode()
    assert unsubscribed == {
        "type": "ack",
        "op": "unsubscribe",
        "symbol": "XBTUSD",
        "kinds": ["trade"],
    }
    for typed, refusal in answers.items():
        assert refusal["type"] == "error", refusal
        assert refusal["message"].startswith(
            f"{typed!r} is not an online USD pair of the instrument registry"
        ), refusal


async def test_a_binary_frame_is_closed_with_1003_and_a_reason_before_or_after_auth(
    emulator: Emulator, aether_urls: ServerUrls, aether_seed: Seed, tmp_path: Path
) -> None:
    async with served(ws_settings(tmp_path, emulator), aether_urls) as (url, app):
        anonymous = await connect(url)
        await anonymous.send(b'{"type": "auth"}')
        before = await closed_with(anonymous)
        ws = await authenticated(url, aether_seed.alice.token)
        await ws.send(b"\x00\x01binary")
        after = await closed_with(ws)
        metrics = state_of(app).metrics.render().decode()
    for code, reason in (before, after):
        assert code == 1003
        assert "binary frames are not supported" in reason
    assert 'aether_ws_market_dropped_total{reason="binary_frame"} 2.0' in metrics
