"""The authenticated WebSocket session's trading methods against the emulator, and the REST
client riding out injected service errors."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from aether.venues.kraken.errors import KrakenError
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest
from aether.venues.kraken.ws_private import KrakenPrivateSession
from tests.integration.emulator.conftest import Emulator


def rest_for(emulator: Emulator, tmp_path: Path, **balances: str) -> KrakenRest:
    creds = httpx.post(f"{emulator.url}/emulator/accounts", json={"balances": balances}).json()
    return KrakenRest(
        emulator.url,
        credentials=Credentials(creds["api_key"], creds["api_secret"]),
        nonces=NonceStore(tmp_path / f"nonce-{creds['api_key'][:8]}"),
        backoff=0.05,
    )


def test_amend_batch_and_cancel_all_over_the_websocket(emulator: Emulator, tmp_path: Path) -> None:
    async def trade() -> dict[str, Any]:
        rest = rest_for(emulator, tmp_path, USD="100000")
        session = KrakenPrivateSession(emulator.ws_url, rest)
        session.start()
        try:
            await session.wait_ready(10)
            order = {"order_type": "limit", "side": "buy", "symbol": "BTC/USD",
                     "order_qty": Decimal("0.01"), "limit_price": Decimal("1000.0")}  # fmt: skip
            placed = await session.add_order({**order, "cl_ord_id": "ws-t-1"})
            amended = await session.amend_order(
                {"order_id": placed["order_id"], "order_qty": Decimal("0.005")}
            )
            batch = await session.batch_add(
                "BTC/USD",
                [{k: v for k, v in order.items() if k != "symbol"} | {"cl_ord_id": f"ws-b-{n}"}
                 for n in (1, 2)],
            )  # fmt: skip
            opened = await rest.private("OpenOrders")
            cancelled = await session.cancel_all()
            after = await rest.private("OpenOrders")
            with pytest.raises(KrakenError):
                await session.add_order({**order, "symbol": "NOPE/USD", "cl_ord_id": "ws-t-9"})
            return {"placed": placed, "amended": amended, "batch": batch, "opened": opened,
                    "cancelled": cancelled, "after": after}  # fmt: skip
        finally:
            await session.stop()
            await rest.aclose()

    out = asyncio.run(trade())
    txid = out["placed"]["order_id"]
    assert "amend_id" in out["amended"]
    assert out["opened"]["open"][txid]["vol"].startswith("0.005")
    assert len(out["opened"]["open"]) == 3  # the amended order and the two of the batch
    assert out["cancelled"]["count"] == 3
    assert out["after"]["open"] == {}


def test_the_rest_client_backs_off_through_injected_service_errors(
    emulator: Emulator, tmp_path: Path
) -> None:
    async def calls() -> tuple[Any, Any]:
        rest = rest_for(emulator, tmp_path, USD="10")
        async with rest:
            injected = {"rest_error": "EService:Unavailable", "count": 2, "scope": "private"}
            answer = httpx.post(f"{emulator.url}/emulator/faults", json=injected)
            assert answer.status_code == 200, answer.text
            balance = await rest.private("Balance")
            busy = {"rest_error": "EService:Busy", "count": 9, "scope": "private"}
            httpx.post(f"{emulator.url}/emulator/faults", json=busy)
            try:
                with pytest.raises(KrakenError) as caught:
                    await rest.private("Balance")
            finally:
                httpx.post(f"{emulator.url}/emulator/faults", json={"clear": True})
            return balance, caught.value

    balance, error = asyncio.run(calls())
    assert balance["ZUSD"].startswith("10")
    assert error.code == "service_busy"
    assert error.retryable
