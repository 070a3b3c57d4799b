"""OrderService: submit, amend, cancel and query an account's orders.

Rules a caller must know:

* ``submit`` refuses (:class:`OrderRefused`, naming the rule and field, nothing written) an
  order the instrument, the account's status and trading state, or pre-trade risk with the
  account's limits forbid. An accepted order is written with its first event and a submit
  outbox row in one transaction, and only after that commit sent to the account's venue.
* The venue's answer (accepted, refused) updates the order, adds its events and closes the
  outbox row in one transaction. No answer leaves the order ``submitted`` and the outbox row
  ``sent``: :meth:`OrderRelay.relay_pending` settles it by ``cl_ord_id`` before any resend.
* Events are published (``orders.<account>.<kind>``) after their transaction commits; they
  are in ``order_events`` whether or not the publish succeeds.
* Every read and change is scoped to the account given; another account's ``cl_ord_id`` is
  :class:`OrderNotFound`, exactly as an unknown one.
* A service given a ``fence`` (an account runner's lease check,
  :func:`aether.oms.leases.check_fence`) runs it inside every transaction that writes an
  order, its events or its outbox: a runner that lost an account's lease writes nothing more
  for it (:class:`~aether.oms.leases.LeaseLost` is raised before the commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.accounts.config import stored_config
from aether.accounts.risk_limits import engine_risk_limits
from aether.domain.orders import PRICED_TYPES, Order, OrderStatus, Side
from aether.oms import outcomes
from aether.oms.account_state import account_view
from aether.oms.amend import Amended, amend
from aether.oms.amend_checks import AmendChange
from aether.oms.errors import (
    DuplicateOrder,
    OrderNotFound,
    OrderNotOpen,
    OrderRefused,
    field_of_rule,
)
from aether.oms.instruments import tradable_instrument
from aether.oms.new_order import NewOrder, build_order
from aether.oms.publishing import EventSink, publish_events
from aether.oms.records import (
    PendingEvent,
    add_command,
    add_event,
    insert_order,
    order_by_cl_ord_id,
)
from aether.oms.venue_port import (
    OrderVenue,
    VenueOutcomeUnknown,
    VenueQuote,
    VenueRefused,
)
from aether.risk.pre_trade import check_order
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow

#: Checks, inside a writing transaction, that this process may still write for the account.
Fence = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


class VenueChoice(Protocol):
    """Which venue an account's orders go to; :class:`NoVenue` when it has none yet."""

    async def venue_for(self, account: AccountRow) -> OrderVenue: ...


def _now() -> datetime:
    return datetime.now(UTC)


def decision_price(order: Order, quote: VenueQuote) -> Decimal:
    """The price the decision was made at: a priced order's own limit, else the side of the
    book it would take (the ask for a buy, the bid for a sell)."""
    request = order.request
    if request.type in PRICED_TYPES and request.price is not None:
        return request.price
    return quote.ask if request.side is Side.BUY else quote.bid


class OrderService:
    """The order path of every account; one per process, given its venues and bus."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        venues: VenueChoice,
        events: EventSink | None = None,
        *,
        clock: Callable[[], datetime] = _now,
        fence: Fence | None = None,
    ) -> None:
        self.sessions = sessions
        self.venues = venues
        self.events = events
        self.clock = clock
        self.fence = fence

    async def check_fence(self, session: AsyncSession, account_id: uuid.UUID) -> None:
        """Run the service's fence (if any) in ``session``'s transaction before it commits."""
        if self.fence is not None:
            await self.fence(session, account_id)

    # --- submit -------------------------------------------------------------------------
    async def submit(self, account: AccountRow, new: NewOrder) -> OrderRow:
        """Check, persist with its outbox row, then send; the order as it stands after."""
        order, venue, view_price, mid = await self.accept(account, new)
        async with self.sessions() as session:
            row, event = await insert_order(
                session, account.id, order, venue=venue.name, decision_price=view_price, mid=mid
            )
            await self.check_fence(session, account.id)
            await session.commit()
        await publish_events(self.events, [event])
        return await self.send(account.id, row.cl_ord_id, order, venue)

    async def accept(
        self, account: AccountRow, new: NewOrder
    ) -> tuple[Order, OrderVenue, Decimal, Decimal]:
        """Every check before anything is written; the order, its venue and prices."""
        if account.status != "active":
            raise OrderRefused(
                f"account {account.name} is {account.status}: it takes no orders",
                rules=("account_status",),
                field="account_id",
            )
        config = stored_config(account.config)
        async with self.sessions() as session:
            instrument = await tradable_instrument(session, new.symbol)
            if instrument is None:
                raise OrderRefused(
                    f"symbol {new.symbol} is not a tradable USD pair",
                    rules=("symbol",),
                    field="symbol",
                )
            order = build_order(new, instrument)
            if await order_by_cl_ord_id(session, account.id, order.cl_ord_id) is not None:
                raise DuplicateOrder(
                    f"cl_ord_id {order.cl_ord_id} is already used on this account",
                    field="cl_ord_id",
                )
            venue = await self.venues.venue_for(account)
            view, quote = await account_view(
                session, account.id, config.trading_state, instrument, venue, self.clock()
            )
            price = decision_price(order, quote)
        verdict = check_order(
            order.request,
            instrument,
            price=price,
            account=view,
            limits=engine_risk_limits(config),
            fee_rate=instrument.fees.tiers[0].taker,
        )
        if not verdict.approved:
            rules = verdict.rules()
            raise OrderRefused(verdict.reason(), rules=rules, field=field_of_rule(rules[0]))
        return order, venue, price, quote.mid

    async def send(
        self, account_id: uuid.UUID, cl_ord_id: str, order: Order, venue: OrderVenue
    ) -> OrderRow:
        """Send a persisted order and record the venue's answer (or its absence)."""
        try:
            answer: str | Exception = await venue.submit(order.request)
        except (VenueRefused, VenueOutcomeUnknown) as exc:
            answer = exc
        async with self.sessions() as session:
            row = await order_by_cl_ord_id(session, account_id, cl_ord_id, lock=True)
            assert row is not None  # written and committed above; orders are never deleted
            if isinstance(answer, str):
                events = await outcomes.accepted(session, row, answer)
            elif isinstance(answer, VenueRefused):
                events = await outcomes.refused(session, row, answer.reason)
            else:
                events = await outcomes.unconfirmed(session, row, str(answer))
            await self.check_fence(session, account_id)
            await session.commit()
        await publish_events(self.events, events)
        return row

    # --- cancel -------------------------------------------------------------------------
    async def cancel(self, account: AccountRow, cl_ord_id: str) -> OrderRow:
        """Ask the venue to cancel an open order; the order as it stands after."""
        async with self.sessions() as session:
            row = await order_by_cl_ord_id(session, account.id, cl_ord_id, lock=True)
            if row is None:
                raise OrderNotFound(f"no order {cl_ord_id} on this account", field="cl_ord_id")
            if OrderStatus(row.status).is_terminal:
                raise OrderNotOpen(f"order {cl_ord_id} is {row.status}", field="cl_ord_id")
            venue = await self.venues.venue_for(account)
            add_command(session, row, "cancel")
            requested = await add_event(session, row, "cancel_requested")
            await self.check_fence(session, account.id)
            await session.commit()
        await publish_events(self.events, [requested])
        return await self.send_cancel(account.id, cl_ord_id, venue)

    async def send_cancel(
        self, account_id: uuid.UUID, cl_ord_id: str, venue: OrderVenue
    ) -> OrderRow:
        """Send a persisted cancel; an order no longer open is looked up instead."""
        events: list[PendingEvent] = []
        try:
            done = await venue.cancel(cl_ord_id)
            found = None if done else await venue.find(cl_ord_id)
        except (VenueRefused, VenueOutcomeUnknown):
            done, found = False, None  # the outbox row stays: the relay tries again
        async with self.sessions() as session:
            row = await order_by_cl_ord_id(session, account_id, cl_ord_id, lock=True)
            assert row is not None
            if done and not OrderStatus(row.status).is_terminal:
                if row.status == OrderStatus.NEW or row.status == OrderStatus.SUBMITTED:
                    events += await outcomes.accepted(session, row, row.venue_order_id or "")
                events += await outcomes.cancelled(session, row, "cancelled on request")
            elif found is not None:
                events += await outcomes.found(session, row, found)
            await self.check_fence(session, account_id)
            await session.commit()
        await publish_events(self.events, events)
        return row

    # --- amend --------------------------------------------------------------------------
    async def amend(
        self,
        account: AccountRow,
        cl_ord_id: str,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Amended:
        """Amend an open order in place where the venue can, else cancel and replace; the
        result says which (``method``). Rules: :mod:`aether.oms.amend`."""
        return await amend(self, account, cl_ord_id, AmendChange(quantity, price, trigger_price))

    # --- queries ------------------------------------------------------------------------
    async def get(self, account: AccountRow, cl_ord_id: str) -> OrderRow:
        async with self.sessions() as session:
            row = await order_by_cl_ord_id(session, account.id, cl_ord_id)
        if row is None:
            raise OrderNotFound(f"no order {cl_ord_id} on this account", field="cl_ord_id")
        return row

    async def list(
        self, account: AccountRow, statuses: Sequence[OrderStatus] = (), limit: int = 100
    ) -> list[OrderRow]:
        """The account's orders, newest first, optionally of some statuses only."""
        query = select(OrderRow).where(OrderRow.account_id == account.id)
        if statuses:
            query = query.where(OrderRow.status.in_([s.value for s in statuses]))
        query = query.order_by(OrderRow.id.desc()).limit(limit)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())
