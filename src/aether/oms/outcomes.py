"""What the venue said about an order, applied to its row: accepted, refused, unknown, or the
state a look-up by ``cl_ord_id`` found. Each returns the events it wrote (to publish after
commit); the caller's transaction holds the row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderStatus
from aether.oms.records import PendingEvent, add_event, finish_commands, move
from aether.oms.venue_port import VenueOrder, VenueOrderState
from aether.storage.order_tables import OrderRow


async def _to(
    session: AsyncSession, row: OrderRow, status: OrderStatus, kind: str, reason: str | None = None
) -> PendingEvent:
    move(row, status, reason)
    return await add_event(session, row, kind)


async def accepted(session: AsyncSession, row: OrderRow, venue_order_id: str) -> list[PendingEvent]:
    """The venue holds the order: new -> submitted -> accepted, its submit command done."""
    row.venue_order_id = venue_order_id
    events = []
    if row.status == OrderStatus.NEW:
        events.append(await _to(session, row, OrderStatus.SUBMITTED, "submitted"))
    if row.status == OrderStatus.SUBMITTED:
        events.append(await _to(session, row, OrderStatus.ACCEPTED, "accepted"))
    await finish_commands(session, row, "submit")
    return events


async def refused(session: AsyncSession, row: OrderRow, reason: str) -> list[PendingEvent]:
    """The venue refused the order: rejected with its reason, nothing placed."""
    event = await _to(session, row, OrderStatus.REJECTED, "rejected", reason)
    await finish_commands(session, row, "submit")
    return [event]


async def unconfirmed(session: AsyncSession, row: OrderRow, error: str) -> list[PendingEvent]:
    """Sent without an answer: submitted, the command ``sent`` until a look-up settles it."""
    events = []
    if row.status == OrderStatus.NEW:
        events.append(await _to(session, row, OrderStatus.SUBMITTED, "submitted"))
    await finish_commands(session, row, "submit", state="sent", error=error)
    return events


async def found(session: AsyncSession, row: OrderRow, order: VenueOrder) -> list[PendingEvent]:
    """The venue has the order (a look-up by ``cl_ord_id``): accepted, then what it found.

    A filled order stays accepted here: its fills, recorded by trade id, fill it."""
    events = await accepted(session, row, order.venue_order_id)
    if order.state is VenueOrderState.CANCELLED and not OrderStatus(row.status).is_terminal:
        events.append(await _to(session, row, OrderStatus.CANCELLED, "cancelled", "at venue"))
    elif order.state is VenueOrderState.EXPIRED and not OrderStatus(row.status).is_terminal:
        events.append(await _to(session, row, OrderStatus.EXPIRED, "expired"))
    if OrderStatus(row.status).is_terminal:
        await finish_commands(session, row, "cancel")
    return events


async def cancelled(session: AsyncSession, row: OrderRow, reason: str) -> list[PendingEvent]:
    event = await _to(session, row, OrderStatus.CANCELLED, "cancelled", reason)
    await finish_commands(session, row, "cancel")
    return [event]
