"""PATCH /api/v1/accounts/{id}/orders/{cl_ord_id} against a real database and the emulator:
an amend in place answers ``method: "amend"``; bad input is a 422 naming the field with
nothing written; another account's order is 404 and a finished one 409."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.keys import AuditKey, audit_session_info
from aether.domain.orders import Order, OrderType, Side
from aether.oms.instruments import tradable_instrument
from aether.oms.records import insert_order
from aether.security import vault
from aether.security.kek import resolve_kek_ring, vault_session_info
from aether.settings import Settings
from aether.storage.database import create_engine, session_factory
from aether.storage.order_tables import OrderEventRow, OrderOutboxRow, OrderRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.rest import Credentials
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator, Kraken
from tests.integration.oms.test_api_orders import _far_bid, _order, api, settings

__all__ = ["api", "settings"]  # the fixtures, shared with the order API's tests


@pytest.fixture
async def live(
    settings: Settings,
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_seed: Seed,
    emulator: Emulator,
) -> Kraken:
    """Alice's account live on an emulator account, its credentials in the vault."""
    kraken = emulator.account(USD="100000", XBT="1")
    engine = create_engine(aether_db_url, pool_size=1)
    info = {
        **audit_session_info(aether_audit_key),
        **vault_session_info(resolve_kek_ring(settings)),
    }
    try:
        async with session_factory(engine, info=info)() as session:
            await vault.store(
                session,
                aether_seed.alice_account,
                Credentials(kraken.key, kraken.secret),
                permissions=["trade"],
                validated_at=datetime.now(UTC),
                actor="system:test",
            )
            await session.execute(
                update(AccountRow)
                .where(AccountRow.id == aether_seed.alice_account)
                .values(mode="live")
            )
            await session.commit()
    finally:
        await engine.dispose()
    return kraken


async def _written(session: AsyncSession) -> tuple[int, ...]:
    counts = [
        await session.scalar(select(func.count()).select_from(table))
        for table in (OrderRow, OrderEventRow, OrderOutboxRow)
    ]
    return tuple(int(count or 0) for count in counts)


async def test_patch_amends_in_place_and_refuses_bad_input_writing_nothing(
    api: httpx.AsyncClient,
    aether_seed: Seed,
    aether_session: AsyncSession,
    emulator: Emulator,
    live: Kraken,
) -> None:
    headers = aether_seed.alice.headers
    url = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
    bid = Decimal(_far_bid(emulator))
    created = await api.post(url, json=_order(price=f"{bid}", cl_ord_id="pa-1"), headers=headers)
    assert created.status_code == 201, created.text
    txid = created.json()["venue_order_id"]

    before = await _written(aether_session)
    for body, field in (
        ({"price": f"{bid + Decimal('0.05')}"}, "body.price"),  # off the tick
        ({"quantity": "0"}, "body.quantity"),
        ({"quantity": "NaN"}, "body.quantity"),
        ({"quantity": "0.0000000001"}, "body.quantity"),  # off the lot
        ({"trigger_price": f"{bid}"}, "body.trigger_price"),  # a limit order has none
        ({"side": "sell"}, "body.side"),  # not amendable
        ({}, "body.quantity"),  # nothing to change
    ):
        refused = await api.patch(f"{url}/pa-1", json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.text)
        fields = [f["field"] for f in refused.json()["error"]["fields"]]
        assert fields[0] == field, (body, fields)
    assert await _written(aether_session) == before

    new_price = bid - Decimal("1.0")
    body = {"quantity": "0.002", "price": f"{new_price}"}
    amended = await api.patch(f"{url}/pa-1", json=body, headers=headers)
    assert amended.status_code == 200, amended.text
    answer = amended.json()
    assert answer["method"] == "amend"
    assert answer["replaces"] is None
    assert (answer["cl_ord_id"], answer["venue_order_id"]) == ("pa-1", txid)
    assert (answer["quantity"], answer["price"]) == ("0.002", f"{new_price}")
    assert emulator.runtime is not None  # read directly: a signed call would take a nonce
    at_venue = emulator.runtime.exchange.open_orders(live.key)
    assert [(o.txid, o.volume, Decimal(o.descr_price)) for o in at_venue] == [
        (txid, Decimal("0.002"), new_price)
    ]

    assert (await api.delete(f"{url}/pa-1", headers=headers)).status_code == 200
    finished = await api.patch(f"{url}/pa-1", json={"price": f"{bid}"}, headers=headers)
    assert finished.status_code == 409, finished.text
    assert finished.json()["error"]["code"] == "order_not_open"


async def test_patch_reaches_no_other_accounts_order(
    api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    xbt = await tradable_instrument(aether_session, "XBTUSD")
    assert xbt is not None
    order = Order.create(
        xbt, cl_ord_id="bobs-2", side=Side.BUY, type=OrderType.LIMIT, quantity="0.001", price="1000"
    )
    await insert_order(
        aether_session,
        aether_seed.bob_account,
        order,
        venue="kraken",
        decision_price=None,
        mid=None,
    )
    await aether_session.commit()
    before = await _written(aether_session)
    alice = aether_seed.alice.headers
    mine = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
    theirs = f"/api/v1/accounts/{aether_seed.bob_account}/orders"
    body = {"price": "999.0"}

    unknown = await api.patch(f"{mine}/nobody-2", json=body, headers=alice)
    assert unknown.status_code == 404
    other = await api.patch(f"{mine}/bobs-2", json=body, headers=alice)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"  # exactly as an unknown one
    assert (await api.patch(f"{theirs}/bobs-2", json=body, headers=alice)).status_code == 403
    assert await _written(aether_session) == before
