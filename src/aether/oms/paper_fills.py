"""The paper fill path: one market event -> the paper venue's new fills and endings recorded
in one transaction -> their order events published (``orders.<account>.fill`` ...).

Rules a caller must know:

* It is the measured path (benchmarks/bench_paper_fill_path.py): an event that fills nothing
  and ends nothing touches no database and publishes nothing.
* Fills are recorded by :func:`aether.oms.fills.record_trades`, keyed by the venue's trade
  id: a replayed fill adds nothing. An order whose acceptance is not recorded yet (its fill
  came while the order service was still writing the venue's answer) is given its
  deterministic venue order id with its first fill, so that fill is never skipped.
* An order the venue ended on its own (IOC remainder, insufficient funds, post-only) is
  cancelled or expired with the venue's reason in the same transaction.
* With a ``fence`` (the account lease's check) the transaction commits only while this
  process still holds the account. If the transaction fails the fills stay in the venue's
  ``trades`` for reconciliation to record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.domain.orders import OrderStatus
from aether.oms import outcomes
from aether.oms.fills import record_trades
from aether.oms.paper_venue import MarketEvent, PaperEnding, PaperOrderVenue
from aether.oms.publishing import EventSink, publish_events
from aether.oms.records import PendingEvent, add_event, finish_commands, move, order_by_cl_ord_id
from aether.oms.service import Fence
from aether.oms.venue_port import VenueOrderState, VenueTrade
from aether.storage.order_tables import OrderRow


async def on_market_event(
    sessions: async_sessionmaker[AsyncSession],
    venue: PaperOrderVenue,
    event: MarketEvent,
    sink: EventSink | None,
    *,
    fence: Fence | None = None,
) -> list[PendingEvent]:
    """Feed ``event`` to ``venue``, record what it did, publish the order events; those."""
    return await on_market_events(sessions, venue, (event,), sink, fence=fence)


async def on_market_events(
    sessions: async_sessionmaker[AsyncSession],
    venue: PaperOrderVenue,
    events: Iterable[MarketEvent],
    sink: EventSink | None,
    *,
    fence: Fence | None = None,
) -> list[PendingEvent]:
    """Feed ``events`` to ``venue`` in order and record all they did in one transaction: a
    consumer that found several events waiting pays for one transaction, not one each."""
    trades: list[VenueTrade] = []
    for event in events:
        trades += venue.on_market(event)
    endings = venue.endings()
    if not trades and not endings:
        return []
    account_id = venue.account_id
    unlinked = venue.unlinked(trades)
    async with sessions() as session:
        if unlinked:
            await _link(session, venue, unlinked)
        written = await record_trades(session, account_id, venue.name, trades)
        for ending in endings:
            written += await _end(session, account_id, ending)
        if fence is not None:
            await fence(session, account_id)
        await session.commit()
    venue.mark_linked(unlinked)
    await publish_events(sink, written)
    return written


async def _link(session: AsyncSession, venue: PaperOrderVenue, cl_ord_ids: set[str]) -> None:
    """Give these orders their (deterministic) venue order id where it is not written yet."""
    prefix = venue.venue_order_id("")
    await session.execute(
        update(OrderRow)
        .where(
            OrderRow.account_id == venue.account_id,
            OrderRow.venue == venue.name,
            OrderRow.cl_ord_id.in_(cl_ord_ids),
            OrderRow.venue_order_id.is_(None),
        )
        .values(venue_order_id=prefix + OrderRow.cl_ord_id)
        .execution_options(synchronize_session=False)
    )


async def _end(
    session: AsyncSession, account_id: uuid.UUID, ending: PaperEnding
) -> list[PendingEvent]:
    """Cancel or expire the order the venue ended, unless it is finished already."""
    row = await order_by_cl_ord_id(session, account_id, ending.cl_ord_id, lock=True)
    if row is None or OrderStatus(row.status).is_terminal:
        return []
    events = []
    if row.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
        events += await outcomes.accepted(session, row, ending.venue_order_id)
    if ending.state is VenueOrderState.EXPIRED:
        move(row, OrderStatus.EXPIRED, ending.reason)
        events.append(await add_event(session, row, "expired"))
        await finish_commands(session, row, "cancel")
        return events
    return events + await outcomes.cancelled(session, row, ending.reason)
