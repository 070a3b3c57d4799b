"""/api/v1/accounts/{id}/orders against a real database and, for a live account with vault
credentials, the emulator: bad input is a 4xx naming the field with nothing written, other
accounts' orders are out of reach, and a paper account no runner can take orders for gets 409
instead of a fake fill."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.api.app import create_app
from aether.audit.keys import AuditKey, audit_session_info
from aether.domain.orders import Order, OrderType, Side
from aether.oms.instruments import tradable_instrument
from aether.oms.records import insert_order
from aether.ops.endpoints import ServerUrls
from aether.security import vault
from aether.security.kek import resolve_kek_ring, vault_session_info
from aether.settings import Settings
from aether.storage.database import create_engine, session_factory
from aether.storage.order_tables import OrderEventRow, OrderOutboxRow, OrderRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.rest import Credentials
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator


@pytest.fixture
def settings(tmp_path: Path, emulator: Emulator) -> Settings:
    return Settings(
        profile="test",
        data_dir=tmp_path / "data",
        market_data_enabled=False,
        kraken_rest_url=emulator.url,
    )


@pytest.fixture
async def api(settings: Settings, aether_urls: ServerUrls) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, aether_urls)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def _far_bid(emulator: Emulator) -> str:
    ticker = next(iter(emulator.public("Ticker", pair="XBTUSD")["result"].values()))
    return f"{(Decimal(ticker['c'][0]) / 2).quantize(Decimal('0.1'), rounding=ROUND_DOWN)}"


async def _nothing_written(session: AsyncSession) -> None:
    for table in (OrderRow, OrderEventRow, OrderOutboxRow):
        assert await session.scalar(select(func.count()).select_from(table)) == 0


def _order(**changes: Any) -> dict[str, Any]:
    return {
        "symbol": "BTC/USD",
        "side": "buy",
        "type": "limit",
        "quantity": "0.001",
        "price": "1000.0",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "0"}, "body.quantity"),
        ({"quantity": "-1"}, "body.quantity"),
        ({"quantity": "NaN"}, "body.quantity"),
        ({"quantity": "0.0000000001"}, "body.quantity"),  # finer than XBTUSD's lot
        ({"symbol": "ETH/BTC"}, "body.symbol"),
        ({"symbol": "NOPEUSD"}, "body.symbol"),
        ({"price": "1000.05"}, "body.price"),  # off XBTUSD's 0.1 tick
        ({"cl_ord_id": "has spaces"}, "body.cl_ord_id"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient,
    aether_seed: Seed,
    aether_session: AsyncSession,
    changes: dict[str, Any],
    field: str,
) -> None:
    url = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
    response = await api.post(url, json=_order(**changes), headers=aether_seed.alice.headers)
    assert response.status_code == 422, response.text
    fields = [f["field"] for f in response.json()["error"]["fields"]]
    assert fields
    assert fields[0] == field
    await _nothing_written(aether_session)


async def test_a_paper_account_without_a_runner_has_no_venue(
    api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    url = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
    response = await api.post(url, json=_order(), headers=aether_seed.alice.headers)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "no_venue"
    await _nothing_written(aether_session)


async def test_other_accounts_and_their_orders_are_out_of_reach(
    api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    xbt = await tradable_instrument(aether_session, "XBTUSD")
    assert xbt is not None
    order = Order.create(
        xbt,
        cl_ord_id="bobs-1",
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity="0.001",
        price="1000.0",
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
    alice, bob = aether_seed.alice, aether_seed.bob
    mine = f"/api/v1/accounts/{aether_seed.alice_account}/orders"

    assert (await api.get(f"{mine}/bobs-1", headers=alice.headers)).status_code == 404
    assert (await api.delete(f"{mine}/bobs-1", headers=alice.headers)).status_code == 404
    assert (await api.get(mine, headers=alice.headers)).json() == []
    theirs = f"/api/v1/accounts/{aether_seed.bob_account}/orders"
    assert (await api.get(f"{theirs}/bobs-1", headers=alice.headers)).status_code == 403
    assert (await api.post(theirs, json=_order(), headers=alice.headers)).status_code == 403
    nowhere = f"/api/v1/accounts/{uuid.uuid4()}/orders"
    assert (await api.post(nowhere, json=_order(), headers=alice.headers)).status_code == 403
    seen = (await api.get(f"{theirs}/bobs-1", headers=bob.headers)).json()
    assert seen["cl_ord_id"] == "bobs-1"
    assert seen["quantity"] == "0.001"


async def _live_with_credentials(
    settings: Settings, db_url: str, audit_key: AuditKey, account_id: uuid.UUID, kraken: Any
) -> None:
    """Alice's account made live, with the emulator account's key in the vault."""
    engine = create_engine(db_url, pool_size=1)
    info = {**audit_session_info(audit_key), **vault_session_info(resolve_kek_ring(settings))}
    try:
        async with session_factory(engine, info=info)() as session:
            await vault.store(
                session,
                account_id,
                Credentials(kraken.key, kraken.secret),
                permissions=["trade"],
                validated_at=datetime.now(UTC),
                actor="system:test",
            )
            await session.execute(
                update(AccountRow).where(AccountRow.id == account_id).values(mode="live")
            )
            await session.commit()
    finally:
        await engine.dispose()


async def test_a_venue_that_does_not_answer_the_risk_reads_is_a_502_and_nothing_is_written(
    api: httpx.AsyncClient,
    settings: Settings,
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_seed: Seed,
    aether_session: AsyncSession,
    emulator: Emulator,
) -> None:
    kraken = emulator.account(USD="100000", XBT="1")
    await _live_with_credentials(
        settings, aether_db_url, aether_audit_key, aether_seed.alice_account, kraken
    )
    price = _far_bid(emulator)
    failing = {"rest_error": "EGeneral:Internal error", "count": 1000, "scope": "public"}
    assert emulator.http.post("/emulator/faults", json=failing).status_code == 200
    try:
        url = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
        response = await api.post(url, json=_order(price=price), headers=aether_seed.alice.headers)
    finally:
        emulator.http.post("/emulator/faults", json={"clear": True})
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "venue_unavailable"
    assert "Ticker" in response.json()["error"]["message"]
    await _nothing_written(aether_session)
    assert emulator.runtime is not None
    assert emulator.runtime.exchange.open_orders(kraken.key) == []


async def test_a_live_account_with_vault_credentials_trades_on_the_emulator(
    api: httpx.AsyncClient,
    settings: Settings,
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_seed: Seed,
    emulator: Emulator,
) -> None:
    kraken = emulator.account(USD="100000", XBT="1")
    await _live_with_credentials(
        settings, aether_db_url, aether_audit_key, aether_seed.alice_account, kraken
    )
    url = f"/api/v1/accounts/{aether_seed.alice_account}/orders"
    body = _order(price=_far_bid(emulator), cl_ord_id="api-1")
    created = await api.post(url, json=body, headers=aether_seed.alice.headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "accepted"
    assert emulator.runtime is not None
    assert [o.cl_ord_id for o in emulator.runtime.exchange.open_orders(kraken.key)] == ["api-1"]

    again = await api.post(url, json=body, headers=aether_seed.alice.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_cl_ord_id"
    listed = await api.get(f"{url}?status=accepted", headers=aether_seed.alice.headers)
    assert [o["cl_ord_id"] for o in listed.json()] == ["api-1"]
    gone = await api.delete(f"{url}/api-1", headers=aether_seed.alice.headers)
    assert gone.status_code == 200
    assert gone.json()["status"] == "cancelled"
    assert emulator.runtime.exchange.open_orders(kraken.key) == []
