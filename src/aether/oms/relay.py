"""The outbox relay and the fill sync: what the order path left unfinished, finished.

Rules a caller must know:

* :func:`relay_pending` takes the account's outbox rows not ``done`` and older than
  ``min_age`` (so an order whose first send is still in flight is left to it), locks each
  (``SKIP LOCKED``: two relays never take the same row), and settles it by ``cl_ord_id``
  first: an order the venue has is recorded as found, never sent again; only an order the
  venue does not have is sent (a submit) and only an open one is cancelled (a cancel).
* :func:`sync_fills` records the account's venue trades since ``since``; a trade recorded
  before adds nothing (the fills' key is the venue's trade id).
* Both run the order service's fence (a runner's lease check) in their transactions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderRequest, OrderStatus, OrderTags, OrderType, Side, TimeInForce
from aether.oms import outcomes
from aether.oms.fills import record_trades
from aether.oms.publishing import publish_events
from aether.oms.records import PendingEvent
from aether.oms.service import OrderService
from aether.oms.venue_port import OrderVenue, VenueOrderState, VenueOutcomeUnknown, VenueRefused
from aether.storage.order_tables import OrderOutboxRow, OrderRow
from aether.storage.tables import AccountRow

_NS = 1_000_000_000


def request_of(row: OrderRow) -> OrderRequest:
    """The venue request of a stored order (validated when it was written)."""
    expire = row.expire_at
    return OrderRequest(
        cl_ord_id=row.cl_ord_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        quantity=row.quantity,
        price=row.price,
        trigger_price=row.trigger_price,
        trailing_offset=None,
        time_in_force=TimeInForce(row.time_in_force),
        expire_at_ns=None if expire is None else int(expire.timestamp()) * _NS,
        post_only=row.post_only,
        reduce_only=False,
        tags=OrderTags(),
    )


async def relay_pending(
    service: OrderService, account: AccountRow, *, min_age: timedelta = timedelta(seconds=5)
) -> int:
    """Settle the account's unfinished outbox rows; how many were settled."""
    venue = await service.venues.venue_for(account)
    settled = 0
    cutoff = datetime.now(UTC) - min_age
    while True:
        async with service.sessions() as session:
            entry = (
                await session.execute(
                    select(OrderOutboxRow, OrderRow)
                    .join(OrderRow, OrderRow.id == OrderOutboxRow.order_id)
                    .where(
                        OrderOutboxRow.account_id == account.id,
                        OrderOutboxRow.state != "done",
                        OrderOutboxRow.updated_at <= cutoff,
                    )
                    .order_by(OrderOutboxRow.id)
                    .limit(1)
                    .with_for_update(of=OrderOutboxRow, skip_locked=True)
                )
            ).one_or_none()
            if entry is None:
                return settled
            outbox, row = entry
            # Before the venue call: the fence's share lock then holds a takeover until this
            # row is settled and committed.
            await service.check_fence(session, account.id)
            events = await _settle(session, venue, outbox, row)
            outbox.updated_at = func.now()
            await session.commit()
        await publish_events(service.events, events)
        settled += 1


async def _settle(
    session: AsyncSession, venue: OrderVenue, outbox: OrderOutboxRow, row: OrderRow
) -> list[PendingEvent]:
    """One outbox row, resolved by ``cl_ord_id`` before anything is sent."""
    if OrderStatus(row.status).is_terminal and outbox.command == "cancel":
        outbox.state = "done"
        return []
    try:
        found = await venue.find(row.cl_ord_id)
        if outbox.command == "submit":
            if found is not None:
                return await outcomes.found(session, row, found)
            try:
                return await outcomes.accepted(session, row, await venue.submit(request_of(row)))
            except VenueRefused as exc:
                return await outcomes.refused(session, row, exc.reason)
        if found is None or found.state is not VenueOrderState.OPEN:
            events = [] if found is None else await outcomes.found(session, row, found)
            outbox.state = "done"
            return events
        if await venue.cancel(row.cl_ord_id):
            events = []
            if row.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
                events = await outcomes.accepted(session, row, found.venue_order_id)
            return events + await outcomes.cancelled(session, row, "cancelled on request")
    except VenueOutcomeUnknown as exc:
        outbox.attempts += 1
        outbox.last_error = str(exc)[:500]
    return []


async def sync_fills(service: OrderService, account: AccountRow, since: datetime) -> int:
    """Record the account's venue trades since ``since``; how many fills were new."""
    venue = await service.venues.venue_for(account)
    trades = await venue.trades(int(since.timestamp()) * _NS)
    async with service.sessions() as session:
        events = await record_trades(session, account.id, venue.name, trades)
        await service.check_fence(session, account.id)
        await session.commit()
    await publish_events(service.events, events)
    return len(events)
