"""Reconciliation's two order corrections: adopting a venue order that is ours and missing
here, and resolving an order open here by what the venue says it is.

Rules a caller must know:

* Each correction is one transaction: the order change, its events and an audit entry
  (actor ``system:reconciliation``); the events are published after it commits.
* An adopted order is written as the venue has it (pair, side, type, quantity, prices, time
  in force), ``accepted`` with nothing filled: its trades, recorded by trade id, fill it.
* An order is resolved only by what a look-up returned; one the venue does not know is
  changed in no way (left to the relay when its submit is unfinished, reported otherwise).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.audit import log as audit
from aether.domain.orders import OrderStatus
from aether.oms import outcomes
from aether.oms.publishing import EventSink, publish_events
from aether.oms.reconcile_report import Correction, ReconciliationReport, Unresolved
from aether.oms.records import add_event, order_by_cl_ord_id
from aether.oms.venue_port import (
    ReconcilableVenue,
    VenueOpenOrder,
    VenueOrder,
    VenueOrderState,
    VenueOutcomeUnknown,
)
from aether.storage.order_tables import OrderOutboxRow, OrderRow

_UNACKNOWLEDGED = (OrderStatus.NEW.value, OrderStatus.SUBMITTED.value)


def _adopted_row(venue: str, account_id: uuid.UUID, order: VenueOpenOrder) -> OrderRow:
    expire = order.expire_at_s
    return OrderRow(
        account_id=account_id,
        cl_ord_id=order.cl_ord_id,
        venue=venue,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        quantity=order.quantity,
        price=order.price,
        trigger_price=order.trigger_price,
        time_in_force=order.time_in_force,
        expire_at=None if expire is None else datetime.fromtimestamp(expire, UTC),
        post_only=order.post_only,
        status=OrderStatus.ACCEPTED.value,
        filled_quantity=Decimal(0),
        venue_order_id=order.venue_order_id,
        reason="adopted: open at the venue, missing from the database",
    )


def needs_settling(row: OrderRow, open_order: VenueOpenOrder | None) -> bool:
    """Whether an order open here needs the venue's word: it is not open there, or it is
    and was never acknowledged here."""
    return open_order is None or row.status in _UNACKNOWLEDGED


async def adopt(
    sessions: async_sessionmaker[AsyncSession],
    venue: str,
    account_id: uuid.UUID,
    order: VenueOpenOrder,
    events: EventSink | None,
    actor: str,
) -> Correction | None:
    """Write the venue's open order ``order`` (ours, missing) as ours; None if it exists."""
    assert order.cl_ord_id is not None  # only an order with our cl_ord_id is adopted
    async with sessions() as session:
        if await order_by_cl_ord_id(session, account_id, order.cl_ord_id) is not None:
            return None  # written by the order path since it was read: not missing
        row = _adopted_row(venue, account_id, order)
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            return None  # the order path wrote it meanwhile
        event = await add_event(
            session, row, "adopted", {"venue_filled_quantity": f"{order.filled_quantity:f}"}
        )
        await audit.append(
            session,
            actor=actor,
            action="order.adopted",
            account_id=account_id,
            details={
                "cl_ord_id": order.cl_ord_id,
                "venue_order_id": order.venue_order_id,
                "symbol": order.symbol,
                "side": order.side,
                "quantity": f"{order.quantity:f}",
            },
        )
        await session.commit()
    await publish_events(events, [event])
    return Correction("adopted", order.cl_ord_id, order.venue_order_id)


async def _look_up(
    venue: ReconcilableVenue,
    row: OrderRow,
    open_order: VenueOpenOrder | None,
    queried: VenueOrder | None,
) -> VenueOrder | None:
    """The order as the venue has it: open, else as queried by its venue id, else as found
    by ``cl_ord_id`` (an order never acknowledged has no venue id)."""
    if open_order is not None:
        state = VenueOrderState.OPEN
        return VenueOrder(open_order.venue_order_id, state, open_order.filled_quantity)
    if queried is not None:
        return queried
    return await venue.find(row.cl_ord_id)


async def resolve(
    sessions: async_sessionmaker[AsyncSession],
    venue: ReconcilableVenue,
    row: OrderRow,
    open_order: VenueOpenOrder | None,
    queried: VenueOrder | None,
    report: ReconciliationReport,
    events: EventSink | None,
    actor: str,
) -> tuple[Correction | None, bool]:
    """Settle an order open here by the venue's word (``open_order`` when it is open there,
    ``queried`` when a look-up by its venue id found it); the correction, and whether the
    venue says it is filled (its trades then fill it)."""
    if open_order is not None and not needs_settling(row, open_order):
        return None, False  # open in both: in agreement
    try:
        found = await _look_up(venue, row, open_order, queried)
    except VenueOutcomeUnknown as exc:
        report.unresolved.append(Unresolved(row.cl_ord_id, row.status, f"no answer: {exc}"))
        return None, False
    if found is None:
        await _not_at_venue(sessions, row, report)
        return None, False
    filled = found.state is VenueOrderState.FILLED
    async with sessions() as session:
        locked = await order_by_cl_ord_id(session, row.account_id, row.cl_ord_id, lock=True)
        if locked is None or OrderStatus(locked.status).is_terminal:
            return None, filled  # settled by the order path meanwhile
        before = locked.status
        written = await outcomes.found(session, locked, found)
        if locked.status == before:
            await session.commit()  # at most the submit command closed: not a correction
            return None, filled
        kind = locked.status if locked.status in ("cancelled", "expired") else "acknowledged"
        await audit.append(
            session,
            actor=actor,
            action=f"order.{kind}",
            account_id=row.account_id,
            details={
                "cl_ord_id": row.cl_ord_id,
                "venue_order_id": found.venue_order_id,
                "was": before,
                "now": locked.status,
                "venue_state": found.state.value,
            },
        )
        await session.commit()
    await publish_events(events, written)
    return Correction(kind, row.cl_ord_id, f"{before} -> {kind} ({found.state.value})"), filled


async def _not_at_venue(
    sessions: async_sessionmaker[AsyncSession], row: OrderRow, report: ReconciliationReport
) -> None:
    """An order the venue does not know: nothing is changed. With an unfinished submit the
    relay settles it (it looks up by ``cl_ord_id`` before sending); otherwise reported."""
    async with sessions() as session:
        unfinished = await session.scalar(
            select(func.count())
            .select_from(OrderOutboxRow)
            .where(
                OrderOutboxRow.order_id == row.id,
                OrderOutboxRow.command == "submit",
                OrderOutboxRow.state != "done",
            )
        )
    if unfinished:
        report.left_to_relay.append(row.cl_ord_id)
    else:
        reason = "the venue does not know it (by cl_ord_id nor by its venue id)"
        report.unresolved.append(Unresolved(row.cl_ord_id, row.status, reason))
