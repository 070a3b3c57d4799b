"""NATS stalled (SIGSTOPped: the TCP connection stays open, nothing answers) under a
connected `WS /ws/market` client: the client is told the bus is down within seconds, stays
served, is told when it is back, and live data resumes."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from tests.chaos.test_ws_market_outage import admin_key, next_frame
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import market_settings
from tests.integration.test_ws_market import authenticated, served


async def test_a_market_client_is_told_when_the_bus_stalls_and_when_it_is_back(
    synthetic: Emulator, market_stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    local, urls = market_stack
    token = await admin_key(urls.database_url)
    settings = market_settings(tmp_path, synthetic.url)  # XBTUSD and ETHUSD are seeded
    nats_pid = local.server("nats").pid
    assert nats_pid is not None
    async with served(settings, urls) as (url, _app):
        ws = await authenticated(url, token)
        try:
            await ws.send(json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["book"]}))
            before = await next_frame(ws, {"kind": "book", "symbol": "XBTUSD"}, within=20)

            frozen_at = time.monotonic()
            os.kill(nats_pid, signal.SIGSTOP)
            try:
                down = await next_frame(ws, {"type": "status", "bus": "down"}, within=30)
                noticed_after = time.monotonic() - frozen_at
                await ws.send(json.dumps({"type": "ping"}))
                await next_frame(ws, {"type": "pong"}, within=15)  # still served
            finally:
                os.kill(nats_pid, signal.SIGCONT)

            await next_frame(ws, {"type": "status", "bus": "up"}, within=30)
            after = await next_frame(ws, {"kind": "book", "symbol": "XBTUSD"}, within=30)
        finally:
            await ws.close()
    assert "unreachable" in down["message"]
    # Pings 2 s apart, two unanswered: about 6 s, with slack for a loaded machine.
    assert noticed_after < 25
    assert after["recv_ns"] > before["recv_ns"]
