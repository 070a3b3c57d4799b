"""An order placed through the API for a paper account: the API writes it with its outbox row
and sends nothing; the runner holding the account places it in the account's SimBroker,
where the market fills it, and the engine counts the fill in its holdings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.storage.order_tables import OrderRow
from tests.conftest import Seed
from tests.integration.oms.portfolio_fills import print_trade
from tests.integration.runner.conftest import Market, configure, running
from tests.support.polling import eventually

XBT_ONLY = {
    "strategy": {"name": "sma_cross", "params": {"fast": 1, "slow": 2}, "pairs": ["XBTUSD"]}
}


async def _status(sessions: async_sessionmaker[AsyncSession], cl_ord_id: str) -> str | None:
    async with sessions() as session:
        status = select(OrderRow.status).where(OrderRow.cl_ord_id == cl_ord_id)
        return await session.scalar(status)


async def test_an_api_order_of_a_paper_account_is_placed_and_filled_by_its_runner(
    aether_seed: Seed,
    aether_session: AsyncSession,
    aether_api: httpx.AsyncClient,
    runner_sessions: async_sessionmaker[AsyncSession],
    runners: Any,
    market: Market,
    emulator: Any,
) -> None:
    account = aether_seed.alice_account
    url = f"/api/v1/accounts/{account}/orders"
    order = {"symbol": "XBTUSD", "side": "buy", "type": "market", "quantity": "0.01"}
    # No runner holds the account yet: nothing can fill it, so nothing is written.
    await configure(aether_session, account, XBT_ONLY)
    refused = await aether_api.post(url, json=order, headers=aether_seed.alice.headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "no_venue"

    calls_before = emulator.runtime.private_calls.total()
    service = await runners("runner-api")
    await running(service, account)
    await print_trade(aether_session, "XBTUSD", "50000")  # the API's quote for the risk check
    placed = await aether_api.post(url, json=order, headers=aether_seed.alice.headers)
    assert placed.status_code == 201, placed.text
    cl_ord_id = placed.json()["cl_ord_id"]
    assert placed.json()["status"] == "submitted"  # handed to the runner, not sent

    # The runner placed it in the SimBroker; the next trade fills it.
    await eventually(lambda: _in(runner_sessions, cl_ord_id, "accepted", "filled"), within=10)
    await market.trade(0.5, "50010")
    await market.flush()
    await eventually(lambda: _in(runner_sessions, cl_ord_id, "filled"), within=10)
    engine = service.process.held[account].runner.engine  # type: ignore[union-attr]
    await eventually(lambda: engine.position("XBTUSD") == Decimal("0.01"), within=10)

    # A resting limit: amending it here is refused, cancelling it is handed over too.
    limit = {**order, "type": "limit", "price": "40000"}
    resting = (await aether_api.post(url, json=limit, headers=aether_seed.alice.headers)).json()
    await eventually(lambda: _in(runner_sessions, resting["cl_ord_id"], "accepted"), within=10)
    one = f"{url}/{resting['cl_ord_id']}"
    amend = await aether_api.patch(one, json={"price": "39000"}, headers=aether_seed.alice.headers)
    assert amend.status_code == 409, amend.text
    assert "amending a paper order" in amend.json()["error"]["message"]
    cancel = await aether_api.delete(one, headers=aether_seed.alice.headers)
    assert cancel.status_code == 200, cancel.text
    await eventually(lambda: _in(runner_sessions, resting["cl_ord_id"], "cancelled"), within=10)

    elsewhere = {**order, "symbol": "ETHUSD"}
    off_pairs = await aether_api.post(url, json=elsewhere, headers=aether_seed.alice.headers)
    assert off_pairs.status_code == 409, off_pairs.text
    assert "not among the pairs" in off_pairs.json()["error"]["message"]
    assert emulator.runtime.private_calls.total() == calls_before


async def _in(sessions: async_sessionmaker[AsyncSession], cl_ord_id: str, *wanted: str) -> bool:
    return await _status(sessions, cl_ord_id) in wanted
