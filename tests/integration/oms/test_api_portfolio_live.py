"""A live account's balances through the API are the venue's, as reconciliation against the
emulator read and stored them, with when they were observed; equity values them at the marks."""

from __future__ import annotations

from decimal import Decimal

import httpx
from prometheus_client import CollectorRegistry
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderType, Side
from aether.oms.new_order import NewOrder
from aether.oms.reconcile import reconcile_account
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.storage.tables import AccountRow
from tests.conftest import Seed
from tests.integration.oms.conftest import Desk
from tests.integration.oms.portfolio_fills import print_trade


async def test_a_live_account_s_balances_are_the_venue_s_as_reconciliation_stored_them(
    desk: Desk, aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    price = desk.far_bid()
    new = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.002"), price=price)
    await desk.service.submit(desk.account, new)  # rests, so the venue holds USD for it
    await aether_session.execute(
        update(AccountRow).where(AccountRow.id == desk.account.id).values(mode="live")
    )
    await aether_session.commit()
    url = f"/api/v1/accounts/{aether_seed.alice_account}"
    headers = aether_seed.alice.headers

    before = (await aether_api.get(f"{url}/balances", headers=headers)).json()
    assert (before["source"], before["observed_at"], before["balances"]) == ("venue", None, [])

    await reconcile_account(desk.service, desk.account, ReconciliationMetrics(CollectorRegistry()))

    response = await aether_api.get(f"{url}/balances", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mode"], body["source"]) == ("live", "venue")
    assert body["observed_at"] is not None
    lines = {b["asset"]: b for b in body["balances"]}
    assert Decimal(lines["USD"]["total"]) == Decimal("100000")
    assert Decimal(lines["USD"]["held"]) >= Decimal("0.002") * price
    assert Decimal(lines["USD"]["available"]) == Decimal("100000") - Decimal(lines["USD"]["held"])
    assert Decimal(lines["XBT"]["total"]) == Decimal("1")

    unmarked = (await aether_api.get(f"{url}/pnl", headers=headers)).json()
    assert unmarked["equity"] is None
    assert unmarked["unmarked"] == ["XBTUSD"]
    await print_trade(aether_session, "XBTUSD", "35000.0")
    pnl = (await aether_api.get(f"{url}/pnl", headers=headers)).json()
    assert pnl["mode"] == "live"
    assert pnl["starting_cash"] is None
    assert Decimal(pnl["equity"]) == Decimal("135000")  # 100000 USD + 1 XBT at 35000
    assert pnl["unmarked"] == []
