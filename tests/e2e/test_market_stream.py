"""`aether up` ingests from the emulator and `WS /ws/market` streams it to a key holder."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support.cli import aether, aether_env, init_company
from tests.support.network import free_port

pytestmark = pytest.mark.e2e


async def _first_trade(url: str, key: str, within: float) -> tuple[dict[str, object], float]:
    started = time.monotonic()
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": key}))
        await ws.send(json.dumps({"type": "subscribe", "symbol": "XBTUSD", "kinds": ["trade"]}))
        async with asyncio.timeout(within):
            while True:
                message = json.loads(await ws.recv())
                if message.get("kind") == "trade":
                    return message, time.monotonic() - started


async def _closed_reason(url: str, first: str | None) -> tuple[int, str]:
    async with websockets.connect(url) as ws:
        if first is not None:
            await ws.send(first)
        async with asyncio.timeout(15):
            # What is wanted: the server closes, with a code and a reason.
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await ws.recv()
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


def test_up_streams_live_trades_to_an_authenticated_client(aether_stack_dir: Path) -> None:
    data, port = aether_stack_dir, free_port()
    env = aether_env(AETHER_WS_MARKET_AUTH_TIMEOUT_SECONDS="1")
    up = aether("up", "--detach", "--data-dir", str(data), "--port", str(port), env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        base = f"http://127.0.0.1:{port}"
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["checks"]["instruments"]["ok"]
        assert ready["checks"]["ingest"]["ok"]
        key = init_company(data, "Acme", env)["api_key"]

        url = f"ws://127.0.0.1:{port}/ws/market"
        trade, took = asyncio.run(_first_trade(url, key, within=20))
        assert trade["symbol"] == "XBTUSD"
        assert took < 20

        # No auth within the (shortened) timeout, a wrong key: closed, each with a reason.
        code, reason = asyncio.run(_closed_reason(url, None))
        assert code == 4008
        assert "auth" in reason
        bad = json.dumps({"type": "auth", "api_key": "aek_nope_nope"})
        code, reason = asyncio.run(_closed_reason(url, bad))
        assert code == 4001
        assert reason

        metrics = httpx.get(f"{base}/metrics").text
        assert 'aether_market_data_age_seconds{symbol="XBTUSD"}' in metrics
        assert 'aether_market_ingest_lag_seconds{symbol="XBTUSD"}' in metrics

        listed = httpx.get(
            f"{base}/api/v1/instruments", headers={"Authorization": f"Bearer {key}"}
        ).json()
        assert listed["refreshed_at"]
        assert "XBTUSD" in {i["symbol"] for i in listed["instruments"]}
    finally:
        assert aether("down", "--data-dir", str(data), env=env).returncode == 0
