"""The order service on a real database and a real emulator: persisted before it is sent,
refusals write nothing, a lost answer never doubles an order, the relay sends once, fills
count once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderType, Side
from aether.oms.errors import OrderRefused
from aether.oms.new_order import NewOrder
from aether.oms.records import insert_order
from aether.oms.relay import relay_pending, sync_fills
from aether.storage.order_tables import FillRow, OrderEventRow, OrderOutboxRow, OrderRow
from tests.integration.oms.conftest import Desk


def _limit_buy(price: Decimal, cl_ord_id: str | None = None) -> NewOrder:
    return NewOrder(
        "XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=price, cl_ord_id=cl_ord_id
    )


async def _count(session: AsyncSession, table: type, account_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(table).where(table.account_id == account_id)  # type: ignore[attr-defined]
    return int(await session.scalar(query) or 0)


async def test_submit_persists_order_event_and_outbox_then_the_venue_acknowledges(
    desk: Desk,
) -> None:
    row = await desk.service.submit(desk.account, _limit_buy(desk.far_bid(), "desk-1"))

    assert row.status == "accepted"
    assert row.venue_order_id
    assert row.decision_price == row.price
    assert row.mid_at_submit is not None
    async with desk.sessions() as session:
        kinds = (
            await session.scalars(
                select(OrderEventRow.kind)
                .where(OrderEventRow.order_id == row.id)
                .order_by(OrderEventRow.seq)
            )
        ).all()
        outbox = (await session.scalars(select(OrderOutboxRow))).one()
    assert kinds == ["created", "submitted", "accepted"]
    assert (outbox.command, outbox.state, outbox.attempts) == ("submit", "done", 1)
    assert desk.orders_at_venue("desk-1") == 1

    listed = await desk.service.list(desk.account)
    assert [o.cl_ord_id for o in listed] == ["desk-1"]
    cancelled = await desk.service.cancel(desk.account, "desk-1")
    assert cancelled.status == "cancelled"
    assert desk.kraken.ok("OpenOrders", cl_ord_id="desk-1")["open"] == {}


async def test_a_refused_order_writes_nothing(desk: Desk) -> None:
    too_big = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("1"), price=desk.far_bid())
    with pytest.raises(OrderRefused) as refused:
        await desk.service.submit(desk.account, too_big)
    assert "max_order_notional" in refused.value.rules

    off_tick = _limit_buy(desk.far_bid() + Decimal("0.01"))
    with pytest.raises(OrderRefused) as refused:
        await desk.service.submit(desk.account, off_tick)
    assert refused.value.rules == ("tick_size",)
    assert refused.value.field == "price"

    desk.account.config = {**desk.account.config, "trading_state": "reducing"}
    with pytest.raises(OrderRefused) as refused:  # a buy adds exposure
        await desk.service.submit(desk.account, _limit_buy(desk.far_bid()))
    assert refused.value.rules == ("trading_state",)

    desk.account.config = {**desk.account.config, "trading_state": "halted"}
    with pytest.raises(OrderRefused) as refused:
        await desk.service.submit(desk.account, _limit_buy(desk.far_bid()))
    assert refused.value.rules == ("trading_state",)

    async with desk.sessions() as session:
        for table in (OrderRow, OrderEventRow, OrderOutboxRow):
            assert await _count(session, table, desk.account.id) == 0
    assert desk.kraken.ok("OpenOrders")["open"] == {}


class LoseAnswers(httpx.AsyncBaseTransport):
    """Forwards every request; the answers of the first ``lose`` calls of each named private
    method reach the venue but never come back (a read timeout)."""

    def __init__(self, lose: dict[str, int]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose = dict(lose)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        method = request.url.path.rsplit("/", 1)[-1]
        if self.lose.get(method, 0) > 0:
            self.lose[method] -= 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


async def test_a_timeout_after_the_venue_accepted_never_doubles_the_order(desk: Desk) -> None:
    venue = desk.venue(LoseAnswers({"AddOrder": 1}))
    desk.venues.by_account[desk.account.id] = venue
    try:
        row = await desk.service.submit(desk.account, _limit_buy(desk.far_bid(), "lost-1"))
    finally:
        await venue.aclose()
    assert row.status == "accepted"
    assert desk.orders_at_venue("lost-1") == 1


async def test_an_unresolved_send_is_settled_by_cl_ord_id_not_resent(desk: Desk) -> None:
    # The answer is lost, and so is every try of the look-up (4: the client retries 3
    # times): the outcome is unknown.
    venue = desk.venue(LoseAnswers({"AddOrder": 1, "OpenOrders": 4}))
    desk.venues.by_account[desk.account.id] = venue
    try:
        row = await desk.service.submit(desk.account, _limit_buy(desk.far_bid(), "lost-2"))
    finally:
        await venue.aclose()
    assert row.status == "submitted"
    async with desk.sessions() as session:
        outbox = (await session.scalars(select(OrderOutboxRow))).one()
    assert outbox.state == "sent"
    assert outbox.last_error

    desk.venues.by_account[desk.account.id] = desk.venue()
    assert await relay_pending(desk.service, desk.account, min_age=timedelta(0)) == 1
    settled = await desk.service.get(desk.account, "lost-2")
    assert settled.status == "accepted"
    assert settled.venue_order_id
    assert desk.orders_at_venue("lost-2") == 1


async def test_relay_after_a_crash_between_commit_and_send_sends_exactly_once(
    desk: Desk,
) -> None:
    order, venue, price, mid = await desk.service.accept(
        desk.account, _limit_buy(desk.far_bid(), "crash-1")
    )
    async with desk.sessions() as session:  # committed, then the process "dies"
        await insert_order(
            session, desk.account.id, order, venue=venue.name, decision_price=price, mid=mid
        )
        await session.commit()
    assert desk.orders_at_venue("crash-1") == 0

    # A young row is left to the sender that may still be working on it.
    assert await relay_pending(desk.service, desk.account) == 0
    assert await relay_pending(desk.service, desk.account, min_age=timedelta(0)) == 1
    assert await relay_pending(desk.service, desk.account, min_age=timedelta(0)) == 0
    assert (await desk.service.get(desk.account, "crash-1")).status == "accepted"
    assert desk.orders_at_venue("crash-1") == 1


async def test_fills_replayed_are_counted_once(desk: Desk) -> None:
    started = datetime.now(UTC) - timedelta(seconds=2)
    market = NewOrder("XBTUSD", Side.BUY, OrderType.MARKET, Decimal("0.001"), cl_ord_id="mkt-1")
    row = await desk.service.submit(desk.account, market)
    assert row.status == "accepted"

    first = 0
    for _ in range(50):
        first += await sync_fills(desk.service, desk.account, started)
        if (await desk.service.get(desk.account, "mkt-1")).status == "filled":
            break
    assert first >= 1
    again = await sync_fills(desk.service, desk.account, started)
    assert again == 0
    async with desk.sessions() as session:
        fills = (await session.scalars(select(FillRow))).all()
        order = await session.get(OrderRow, row.id)
    assert order is not None
    assert order.status == "filled"
    assert sum(f.quantity for f in fills) == Decimal("0.001") == order.filled_quantity
    assert len(fills) == first
