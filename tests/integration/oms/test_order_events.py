"""Order events reach NATS on ``orders.<account>.<kind>`` after commit, and a consumer that
missed them catches up from ``order_events`` by ``event_id``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal

import nats
from nats.aio.msg import Msg
from sqlalchemy import select

from aether.bus.publisher import BusPublisher
from aether.bus.subjects import order_wildcard
from aether.domain.orders import OrderType, Side
from aether.oms.new_order import NewOrder
from aether.ops.endpoints import ServerUrls
from aether.storage.order_tables import OrderEventRow
from tests.integration.oms.conftest import Desk
from tests.support.polling import eventually


async def test_order_events_are_published_and_kept_for_catch_up(
    desk: Desk, aether_server_urls: ServerUrls
) -> None:
    account = str(desk.account.id)
    received: list[tuple[str, dict[str, object]]] = []
    listener = await nats.connect(aether_server_urls.nats_url)
    bus = BusPublisher(aether_server_urls.nats_url, name="test-oms-events", retry_seconds=0.1)
    runner = asyncio.create_task(bus.run())
    try:

        async def on_message(msg: Msg) -> None:
            received.append((msg.subject, json.loads(msg.data)))

        await listener.subscribe(order_wildcard(account), cb=on_message)
        await listener.flush()
        await eventually(lambda: bus.ready, within=10)
        desk.service.events = bus
        order = NewOrder(
            "XBTUSD",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.001"),
            price=desk.far_bid(),
            cl_ord_id="evt-1",
        )
        await desk.service.submit(desk.account, order)
        await eventually(lambda: len(received) == 3, within=10)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await bus.close()
        await listener.close()

    subjects = [subject for subject, _ in received]
    assert subjects == [f"orders.{account}.{kind}" for kind in ("created", "submitted", "accepted")]
    body = received[-1][1]
    assert body["cl_ord_id"] == "evt-1"
    assert body["status"] == "accepted"
    assert body["quantity"] == "0.001"  # exact, as text
    async with desk.sessions() as session:
        ids = (
            await session.scalars(
                select(OrderEventRow.id)
                .where(OrderEventRow.account_id == desk.account.id)
                .order_by(OrderEventRow.id)
            )
        ).all()
    assert [b["event_id"] for _, b in received] == list(ids)
