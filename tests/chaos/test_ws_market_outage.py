"""NATS killed under a connected `WS /ws/market` client: the client stays connected, is told
the bus is down and up again, and live data resumes once it is back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from aether.cli.accounts import initialise_company
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import market_settings
from tests.integration.test_ws_market import authenticated, served


@pytest.fixture
def stack(
    stack: tuple[LocalStack, ServerUrls], aether_server_urls: ServerUrls
) -> tuple[LocalStack, ServerUrls]:
    """The chaos stack (PostgreSQL and NATS of this test's own: NATS gets killed) with the
    session's Redis."""
    local, own = stack
    return local, ServerUrls(own.database_url, own.nats_url, aether_server_urls.redis_url)


async def admin_key(database_url: str) -> str:
    done = await initialise_company(database_url, "Company", ["A", "B"], "root", "system:test")
    return done.admin_key.token


async def next_frame(ws: ClientConnection, wanted: dict[str, Any], within: float) -> dict[str, Any]:
    """The first frame carrying every key/value of ``wanted`` (a timeout fails the test)."""
    async with asyncio.timeout(within):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if all(frame.get(key) == value for key, value in wanted.items()):
                return frame


async def test_a_market_client_rides_out_a_bus_outage(
    synthetic: Emulator, stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    local, urls = stack
    token = await admin_key(urls.database_url)
    settings = market_settings(tmp_path, synthetic.url)  # XBTUSD and ETHUSD are seeded
    async with served(settings, urls) as (url, _app):
        ws = await authenticated(url, token)
        try:
            await ws.send(json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["book"]}))
            before = await next_frame(ws, {"kind": "book", "symbol": "XBTUSD"}, within=20)
            assert before["bids"]
            assert before["asks"]

            await asyncio.to_thread(local.server("nats").stop, 10)
            down = await next_frame(ws, {"type": "status", "bus": "down"}, within=20)
            assert "unreachable" in down["message"]
            await ws.send(json.dumps({"type": "ping"}))
            await next_frame(ws, {"type": "pong"}, within=15)  # still connected, still served

            await asyncio.to_thread(local.start, ["nats"])
            await next_frame(ws, {"type": "status", "bus": "up"}, within=30)
            after = await next_frame(ws, {"kind": "book", "symbol": "XBTUSD"}, within=30)
            assert after["recv_ns"] > before["recv_ns"]  # live data again, not a replay
        finally:
            await ws.close()
