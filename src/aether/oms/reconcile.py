"""Reconciliation of one account against its venue: open orders, fills and balances.

Rules a caller must know (docs/trading.md, "Reconciliation", explains why):

* It only reads the venue; it never sends, cancels or resends anything. What the outbox left
  unfinished is the relay's (:func:`aether.oms.relay.relay_pending`), run before it.
* A venue order open for the account and missing from the database is adopted only if its
  ``cl_ord_id`` is ours (:func:`is_our_cl_ord_id`); any other is reported, never adopted.
* A database order open in the database and not open at the venue is resolved by look-up
  (by ``cl_ord_id``, then by the venue's order id): accepted, cancelled or expired as the
  venue says; a filled one is filled by its trades. An order the venue does not know is
  never guessed: with an unfinished submit it is left to the relay, otherwise reported.
* Fills come from ``TradesHistory`` (every page) since the last known fill, or earlier when
  an order open at the start or adopted now began earlier; each trade counts once.
* Every correction is written with an audit entry in one transaction and counted in
  ``aether_reconciliation_corrections_total{kind}``; a second run changes nothing.
* The venue's balances are stored as the account's snapshot (``account_balances``, through
  :func:`aether.oms.balance_snapshots.save_balances`), replacing the previous one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.audit import log as audit
from aether.domain.orders import OrderStatus
from aether.oms.balance_snapshots import save_balances
from aether.oms.fills import record_trades
from aether.oms.publishing import EventSink, publish_events
from aether.oms.reconcile_orders import adopt, resolve
from aether.oms.reconcile_report import (
    Correction,
    ReconciliationMetrics,
    ReconciliationReport,
    Unresolved,
    is_our_cl_ord_id,
)
from aether.oms.service import OrderService
from aether.oms.venue_port import (
    ReconcilableVenue,
    VenueOpenOrder,
    VenueOrder,
    VenueOutcomeUnknown,
)
from aether.storage.order_tables import FillRow, OrderRow
from aether.storage.tables import AccountRow

ACTOR = "system:reconciliation"
_OPEN = tuple(s.value for s in OrderStatus if not s.is_terminal)
_NS = 1_000_000_000
# TradesHistory's start is exclusive and in whole seconds: start a little earlier, the
# trade id keeps a trade seen twice from counting twice.
_MARGIN = timedelta(seconds=2)


async def reconcile_account(
    service: OrderService, account: AccountRow, metrics: ReconciliationMetrics
) -> ReconciliationReport:
    """Reconcile ``account`` with the venue the order service uses for it."""
    venue = await service.venues.venue_for(account)
    if not isinstance(venue, ReconcilableVenue):
        raise TypeError(f"venue {venue.name} cannot be reconciled (no open-order reads)")
    return await reconcile(service.sessions, venue, account.id, metrics, events=service.events)


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    venue: ReconcilableVenue,
    account_id: uuid.UUID,
    metrics: ReconciliationMetrics,
    *,
    events: EventSink | None = None,
) -> ReconciliationReport:
    """Open orders, then fills, then balances; the report of what was found and changed."""
    report = ReconciliationReport(account_id)
    async with sessions() as session:
        open_rows = list(
            (
                await session.scalars(
                    select(OrderRow).where(
                        OrderRow.account_id == account_id, OrderRow.status.in_(_OPEN)
                    )
                )
            ).all()
        )
    at_venue = await venue.open_orders()
    # Read after the venue: the order path commits an order before sending it, so every
    # order of ours the venue has is known here by now (and is not taken for a foreign one).
    async with sessions() as session:
        rows = await session.execute(
            select(OrderRow.cl_ord_id, OrderRow.status).where(OrderRow.account_id == account_id)
        )
        known = {cl_ord_id: status for cl_ord_id, status in rows}
    try:
        await _reconcile_with(
            sessions, venue, account_id, open_rows, at_venue, known, report, events
        )
    finally:  # counted as committed, even when a later step fails
        for correction in report.corrections:
            metrics.count(correction.kind)
    return report


async def _reconcile_with(
    sessions: async_sessionmaker[AsyncSession],
    venue: ReconcilableVenue,
    account_id: uuid.UUID,
    open_rows: Sequence[OrderRow],
    at_venue: Sequence[VenueOpenOrder],
    known: dict[str, str],
    report: ReconciliationReport,
    events: EventSink | None,
) -> None:
    """The steps after the reads: adopt, resolve, fills, balances."""
    adopted = await _adopt_missing(sessions, venue, account_id, at_venue, known, report, events)
    venue_open = {o.cl_ord_id: o for o in at_venue if o.cl_ord_id}
    filled_at_venue: list[str] = []
    queried = await _query_closed(venue, open_rows, venue_open)
    for row in open_rows:
        correction, filled = await resolve(
            sessions,
            venue,
            row,
            venue_open.get(row.cl_ord_id),
            queried.get(row.venue_order_id or ""),
            report,
            events,
            ACTOR,
        )
        if correction is not None:
            report.corrections.append(correction)
        if filled:
            filled_at_venue.append(row.cl_ord_id)
    _report_conflicts(at_venue, known, report)
    starts = [row.created_at for row in open_rows] + [
        datetime.fromtimestamp(o.opened_at_ns / _NS, UTC) for o in adopted
    ]
    await _recover_fills(sessions, venue, account_id, starts, report, events)
    await _check_filled(sessions, account_id, filled_at_venue, report)
    report.venue_balances = await venue.balances()
    async with sessions() as session:  # the snapshot the portfolio view serves
        await save_balances(session, account_id, report.venue_balances, datetime.now(UTC))
        await session.commit()


async def _adopt_missing(
    sessions: async_sessionmaker[AsyncSession],
    venue: ReconcilableVenue,
    account_id: uuid.UUID,
    at_venue: Sequence[VenueOpenOrder],
    known: dict[str, str],
    report: ReconciliationReport,
    events: EventSink | None,
) -> list[VenueOpenOrder]:
    """Adopt the venue's open orders that are ours and missing; report foreign ones."""
    adopted = []
    for order in at_venue:
        if order.cl_ord_id is not None and order.cl_ord_id in known:
            continue
        if not is_our_cl_ord_id(order.cl_ord_id):
            report.foreign_orders.append(order)
            continue
        correction = await adopt(sessions, venue.name, account_id, order, events, ACTOR)
        if correction is not None:
            report.corrections.append(correction)
            adopted.append(order)
    return adopted


async def _query_closed(
    venue: ReconcilableVenue,
    open_rows: Sequence[OrderRow],
    venue_open: Mapping[str, VenueOpenOrder],
) -> Mapping[str, VenueOrder]:
    """The orders open here and not open at the venue, looked up by venue id in batches
    (a call per 50, not two per order: the venue's call budget is small). Without an answer
    each is looked up alone by ``cl_ord_id`` instead."""
    txids = [
        row.venue_order_id
        for row in open_rows
        if row.venue_order_id and row.cl_ord_id not in venue_open
    ]
    if not txids:
        return {}
    try:
        return await venue.query(txids)
    except VenueOutcomeUnknown:
        return {}


def _report_conflicts(
    at_venue: Sequence[VenueOpenOrder], known: dict[str, str], report: ReconciliationReport
) -> None:
    """Orders open at the venue that the database holds as finished: reported, not changed
    (no transition reopens an order)."""
    for order in at_venue:
        status = known.get(order.cl_ord_id or "")
        if status is not None and OrderStatus(status).is_terminal:
            reason = "open at the venue, finished in the database"
            report.unresolved.append(Unresolved(order.cl_ord_id or "", status, reason))


async def _fills_since(
    session: AsyncSession, account_id: uuid.UUID, starts: Sequence[datetime]
) -> datetime | None:
    """Where TradesHistory is read from; None when no order could own a missed trade."""
    last_fill = await session.scalar(
        select(func.max(FillRow.ts)).where(FillRow.account_id == account_id)
    )
    candidates = [*starts, *([] if last_fill is None else [last_fill])]
    if not candidates:
        return None
    return min(candidates) - _MARGIN


async def _recover_fills(
    sessions: async_sessionmaker[AsyncSession],
    venue: ReconcilableVenue,
    account_id: uuid.UUID,
    starts: Sequence[datetime],
    report: ReconciliationReport,
    events: EventSink | None,
) -> None:
    """Record the venue's trades since the last known fill; each new one is a correction."""
    async with sessions() as session:
        since = await _fills_since(session, account_id, starts)
    if since is None:
        return
    trades = await venue.trades(int(since.timestamp()) * _NS)
    async with sessions() as session:
        written = await record_trades(session, account_id, venue.name, trades)
        for event in written:
            trade_id = str(event.payload["trade_id"])
            await audit.append(
                session,
                actor=ACTOR,
                action="order.fill_recovered",
                account_id=account_id,
                details={
                    "cl_ord_id": event.payload["cl_ord_id"],
                    "trade_id": trade_id,
                    "quantity": event.payload["fill_quantity"],
                    "price": event.payload["fill_price"],
                },
            )
            report.corrections.append(Correction("fill", event.payload["cl_ord_id"], trade_id))
        await session.commit()
    report.fills_recovered = len(written)
    await publish_events(events, written)


async def _check_filled(
    sessions: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    cl_ord_ids: Sequence[str],
    report: ReconciliationReport,
) -> None:
    """Orders the venue says are filled whose trades did not fill them here: reported."""
    if not cl_ord_ids:
        return
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(OrderRow).where(
                    OrderRow.account_id == account_id, OrderRow.cl_ord_id.in_(cl_ord_ids)
                )
            )
        ).all()
    for row in rows:
        if row.status != OrderStatus.FILLED:
            reason = "filled at the venue; its trades were not found"
            report.unresolved.append(Unresolved(row.cl_ord_id, row.status, reason))
