"""Reconciliation on a real database and a real emulator: orders placed or changed at the venue
behind the service's back are adopted (ours only) or resolved by look-up, fills missed while
"disconnected" are recovered once, every correction is audited and counted, and a second run
changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from aether.domain.orders import OrderType, Side
from aether.oms.instruments import tradable_instrument
from aether.oms.new_order import NewOrder, build_order
from aether.oms.reconcile import ACTOR, reconcile_account
from aether.oms.reconcile_report import ReconciliationMetrics, ReconciliationReport
from aether.oms.records import insert_order
from aether.storage.order_tables import FillRow, OrderEventRow, OrderRow
from aether.storage.tables import AuditRow
from tests.integration.oms.conftest import Desk
from tests.integration.oms.test_order_service import LoseAnswers


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> ReconciliationMetrics:
    return ReconciliationMetrics(registry)


async def _run(desk: Desk, metrics: ReconciliationMetrics) -> ReconciliationReport:
    return await reconcile_account(desk.service, desk.account, metrics)


def _count(registry: CollectorRegistry, kind: str) -> float:
    value = registry.get_sample_value("aether_reconciliation_corrections_total", {"kind": kind})
    return value or 0.0


async def _audit_actions(desk: Desk) -> list[str]:
    async with desk.sessions() as session:
        rows = await session.scalars(
            select(AuditRow.action).where(AuditRow.actor == ACTOR).order_by(AuditRow.seq)
        )
        return list(rows.all())


async def _order_count(desk: Desk) -> int:
    async with desk.sessions() as session:
        query = select(func.count()).select_from(OrderRow)
        return int(await session.scalar(query.where(OrderRow.account_id == desk.account.id)) or 0)


def _place(desk: Desk, price: Decimal, **extra: str) -> str:
    """A resting XBTUSD limit buy placed at the venue directly, bypassing the service."""
    placed = desk.kraken.ok(
        "AddOrder",
        pair="XBTUSD",
        type="buy",
        ordertype="limit",
        volume="0.002",
        price=str(price),
        **extra,
    )
    return str(placed["txid"][0])


async def test_a_venue_order_with_our_cl_ord_id_is_adopted_and_a_foreign_one_only_reported(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    ours, price = str(uuid.uuid4()), desk.far_bid()
    txid = _place(desk, price, cl_ord_id=ours)
    foreign_txid = _place(desk, price, cl_ord_id="manual-1")
    bare_txid = _place(desk, price)  # no cl_ord_id at all

    report = await _run(desk, metrics)

    assert [(c.kind, c.cl_ord_id) for c in report.corrections] == [("adopted", ours)]
    assert {o.venue_order_id for o in report.foreign_orders} == {foreign_txid, bare_txid}
    adopted = await desk.service.get(desk.account, ours)
    assert adopted.status == "accepted"
    assert adopted.venue_order_id == txid
    assert (adopted.symbol, adopted.side, adopted.type) == ("XBTUSD", "buy", "limit")
    assert adopted.quantity == Decimal("0.002")
    assert adopted.price == price
    assert await _order_count(desk) == 1  # the foreign ones were not written
    async with desk.sessions() as session:
        kinds = (
            await session.scalars(
                select(OrderEventRow.kind).where(OrderEventRow.order_id == adopted.id)
            )
        ).all()
    assert kinds == ["adopted"]
    assert await _audit_actions(desk) == ["order.adopted"]
    assert _count(registry, "adopted") == 1
    # No balance table yet: the venue's balances are reported as read.
    assert report.venue_balances["USD"].total == Decimal("100000")
    assert report.venue_balances["USD"].held > 0
    assert report.venue_balances["XBT"].total == Decimal("1")

    again = await _run(desk, metrics)
    assert again.corrections == []
    assert len(again.foreign_orders) == 2
    assert await _order_count(desk) == 1
    assert await _audit_actions(desk) == ["order.adopted"]
    assert _count(registry, "adopted") == 1


async def test_an_order_cancelled_at_the_venue_behind_our_back_is_resolved_cancelled(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    new = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=desk.far_bid())
    row = await desk.service.submit(desk.account, new)
    assert row.status == "accepted"
    desk.kraken.ok("CancelOrder", cl_ord_id=row.cl_ord_id)

    report = await _run(desk, metrics)

    assert [(c.kind, c.cl_ord_id) for c in report.corrections] == [("cancelled", row.cl_ord_id)]
    assert (await desk.service.get(desk.account, row.cl_ord_id)).status == "cancelled"
    assert await _audit_actions(desk) == ["order.cancelled"]
    assert _count(registry, "cancelled") == 1

    again = await _run(desk, metrics)
    assert again.corrections == []
    assert await _audit_actions(desk) == ["order.cancelled"]
    assert _count(registry, "cancelled") == 1


async def _closed_at_venue(desk: Desk, cl_ord_id: str) -> None:
    for _ in range(100):
        if desk.kraken.ok("ClosedOrders", cl_ord_id=cl_ord_id)["closed"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cl_ord_id} never closed at the venue")


async def test_a_fill_missed_while_disconnected_is_recovered_once(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    market = NewOrder("XBTUSD", Side.BUY, OrderType.MARKET, Decimal("0.001"))
    row = await desk.service.submit(desk.account, market)
    assert row.status == "accepted"
    await _closed_at_venue(desk, row.cl_ord_id)  # filled at the venue; no fill sync ran

    report = await _run(desk, metrics)

    assert report.fills_recovered >= 1
    assert {c.kind for c in report.corrections} == {"fill"}
    assert report.unresolved == []
    async with desk.sessions() as session:
        fills = (await session.scalars(select(FillRow))).all()
        order = await session.get(OrderRow, row.id)
    assert order is not None
    assert order.status == "filled"
    assert sum(f.quantity for f in fills) == Decimal("0.001") == order.filled_quantity
    assert len({f.venue_trade_id for f in fills}) == len(fills) == report.fills_recovered
    assert await _audit_actions(desk) == ["order.fill_recovered"] * len(fills)
    assert _count(registry, "fill") == len(fills)

    again = await _run(desk, metrics)
    assert again.corrections == []
    assert again.fills_recovered == 0
    async with desk.sessions() as session:
        assert int(await session.scalar(select(func.count()).select_from(FillRow)) or 0) == len(
            fills
        )
    assert _count(registry, "fill") == len(fills)


async def test_an_order_never_sent_is_left_to_the_relay_not_guessed(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    new = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=desk.far_bid())
    order, venue, price, mid = await desk.service.accept(desk.account, new)
    async with desk.sessions() as session:  # committed, then the process "dies" before sending
        await insert_order(
            session, desk.account.id, order, venue=venue.name, decision_price=price, mid=mid
        )
        await session.commit()

    report = await _run(desk, metrics)

    assert report.left_to_relay == [order.cl_ord_id]
    assert report.corrections == []
    assert (await desk.service.get(desk.account, order.cl_ord_id)).status == "new"
    assert desk.orders_at_venue(order.cl_ord_id) == 0  # reconciliation sends nothing
    assert await _audit_actions(desk) == []


async def test_an_order_whose_answer_was_lost_is_acknowledged_by_look_up_not_resent(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    # The answer and every look-up of the client are lost: the order stays submitted.
    venue = desk.venue(LoseAnswers({"AddOrder": 1, "OpenOrders": 4}))
    desk.venues.by_account[desk.account.id] = venue
    new = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=desk.far_bid())
    try:
        row = await desk.service.submit(desk.account, new)
    finally:
        await venue.aclose()
    assert row.status == "submitted"
    desk.venues.by_account[desk.account.id] = desk.venue()

    report = await _run(desk, metrics)

    assert [(c.kind, c.cl_ord_id) for c in report.corrections] == [("acknowledged", row.cl_ord_id)]
    settled = await desk.service.get(desk.account, row.cl_ord_id)
    assert settled.status == "accepted"
    assert settled.venue_order_id
    assert desk.orders_at_venue(row.cl_ord_id) == 1
    assert report.foreign_orders == []  # our own order, though its answer was lost
    assert await _audit_actions(desk) == ["order.acknowledged"]
    assert _count(registry, "acknowledged") == 1
    assert (await _run(desk, metrics)).corrections == []


async def test_fills_past_one_page_of_trades_history_are_all_recovered(
    desk: Desk, registry: CollectorRegistry, metrics: ReconciliationMetrics
) -> None:
    # More orders than TradesHistory returns in a page (50), sent without the pre-trade
    # order-rate limit, each filled at the venue while no fill sync runs.
    venue = await desk.venues.venue_for(desk.account)
    async with desk.sessions() as session:
        instrument = await tradable_instrument(session, "XBTUSD")
    assert instrument is not None
    sent = []
    for _ in range(52):
        market = NewOrder("XBTUSD", Side.BUY, OrderType.MARKET, Decimal("0.001"))
        order = build_order(market, instrument)
        async with desk.sessions() as session:
            await insert_order(
                session, desk.account.id, order, venue=venue.name, decision_price=None, mid=None
            )
            await session.commit()
        row = await desk.service.send(desk.account.id, order.cl_ord_id, order, venue)
        assert row.status == "accepted"
        sent.append(order.cl_ord_id)
    await _closed_at_venue(desk, sent[-1])

    report = await _run(desk, metrics)

    async with desk.sessions() as session:
        orders = (await session.scalars(select(OrderRow))).all()
        fills = (await session.scalars(select(FillRow))).all()
    assert len(fills) > 50
    assert report.fills_recovered == len(fills) == _count(registry, "fill")
    assert {o.status for o in orders} == {"filled"}
    assert sum(f.quantity for f in fills) == Decimal("0.052")
    assert (await _run(desk, metrics)).corrections == []
