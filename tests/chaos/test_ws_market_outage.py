"""NATS killed under a connected `WS /ws/market` client: the client stays connected, is told
the bus is down and up again, and live data resumes once it is back."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from aether.audit.keys import AuditKey
from aether.cli.accounts import initialise_company
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import market_settings
from tests.integration.test_ws_market import authenticated, served


async def admin_key(database_url: str) -> str:
    key = AuditKey.from_text(os.environ["AETHER_AUDIT_HMAC_KEY"])  # this run's, see conftest
    done = await initialise_company(
        database_url, "Company", ["A", "B"], "root", "system:test", key=key
    )
    return done.admin_key.token


async def next_frame(ws: ClientConnection, wanted: dict[str, Any], within: float) -> dict[str, Any]:
    """The first frame carrying every key/value of ``wanted`` (a timeout fails the test)."""
    async with asyncio.timeout(within):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if all(frame.get(key) == value for key, value in wanted.items()):
                return frame


async def test_a_market_client_rides_out_a_bus_outage(
    synthetic: Emulator, market_stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    local, urls = market_stack
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
