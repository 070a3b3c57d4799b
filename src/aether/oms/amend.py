"""Amending an open order: in place where the venue can (Kraken's AmendOrder), else cancel
and replace; the result says which.

Rules a caller must know:

* Every refusal comes before anything is written (:class:`OrderRefused` naming the field):
  nothing to change, a value the instrument refuses (tick, lot, minimums) or the order type
  has no place for (a limit price on a market order), a quantity at or below what already
  filled, the account's status, a halted account. An amend that adds exposure (a larger
  quantity, or a buy's price or trigger raised) is checked by pre-trade risk and the trading
  state exactly as a new order of the amended values, the order's own hold counted as free.
* In place: ``amend_requested`` is written, the venue amends (same ``cl_ord_id`` and venue
  id), then the row takes the new values with an ``amended`` event (``method: "amend"``).
  A venue refusal is an ``amend_refused`` event and :class:`AmendRejected`.
* Cancel-replace: ``amend_requested`` and a ``cancel`` outbox row in one transaction, then
  the cancel is sent (after a crash the relay finishes the cancel; the replacement is not
  made: a lost replacement never doubles exposure). Once the venue has cancelled, the old
  order is ``cancelled`` with an ``amended`` event (``method: "cancel_replace"``,
  ``replaced_by``) and the replacement, a new ``cl_ord_id`` whose ``created`` event names
  the order it ``replaces``, is written with its submit outbox row in the same transaction,
  then sent as any new order. Its quantity is the new total less what the venue filled.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderStatus
from aether.oms import outcomes
from aether.oms.amend_checks import (
    AmendChange,
    AmendPlan,
    OrderPath,
    open_order_row,
    plan_amend,
)
from aether.oms.errors import (
    AmendRejected,
    NoVenue,
    OrderNotOpen,
    OrderRefused,
    VenueUnanswered,
)
from aether.oms.new_order import build_order
from aether.oms.paper_handover import PaperHandover
from aether.oms.publishing import publish_events
from aether.oms.records import (
    PendingEvent,
    add_command,
    add_event,
    finish_commands,
    insert_order,
    order_by_cl_ord_id,
)
from aether.oms.venue_port import (
    AmendingVenue,
    VenueOrder,
    VenueOutcomeUnknown,
    VenueRefused,
    amending,
)
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow


class AmendMethod(StrEnum):
    AMEND = "amend"
    CANCEL_REPLACE = "cancel_replace"


@dataclass(frozen=True, slots=True)
class Amended:
    """The order as it stands after the amend (the same order, or its replacement)."""

    order: OrderRow
    method: AmendMethod
    replaces: str | None = None  # the replaced order's cl_ord_id (cancel-replace)


async def amend(
    service: OrderPath, account: AccountRow, cl_ord_id: str, change: AmendChange
) -> Amended:
    """Check, record the request, amend at the venue (or cancel and replace), record it."""
    plan = await plan_amend(service, account, cl_ord_id, change)
    in_place = amending(plan.venue)
    method = AmendMethod.AMEND if in_place is not None else AmendMethod.CANCEL_REPLACE
    async with service.sessions() as session:
        row = await open_order_row(session, account.id, cl_ord_id, lock=True)
        requested = {"requested": change.payload(), "method": method.value}
        event = await add_event(session, row, "amend_requested", requested)
        if in_place is None:
            add_command(session, row, "cancel")
        await session.commit()
    await publish_events(service.events, [event])
    if in_place is not None:
        return await _amend_in_place(service, account, plan, change, in_place)
    return await _cancel_replace(service, account, plan, change)


async def _amend_in_place(
    service: OrderPath,
    account: AccountRow,
    plan: AmendPlan,
    change: AmendChange,
    venue: AmendingVenue,
) -> Amended:
    request = plan.order.request
    try:
        amend_id = await venue.amend(
            plan.cl_ord_id,
            quantity=change.quantity,
            price=change.price,
            trigger_price=change.trigger_price,
        )
    except VenueRefused as exc:
        await _refused(service, account, plan.cl_ord_id, change, exc.reason)
        raise AmendRejected(
            f"the venue refused the amend: {exc.reason}", field=_field_in(exc.reason)
        ) from exc
    except VenueOutcomeUnknown as exc:
        raise VenueUnanswered(
            f"the venue did not answer the amend: {exc}", field="cl_ord_id"
        ) from exc
    async with service.sessions() as session:
        # The venue amended it: recorded even if a fill finished the order meanwhile.
        row = await _any_row(session, account.id, plan.cl_ord_id)
        row.quantity, row.price, row.trigger_price = (
            request.quantity,
            request.price,
            request.trigger_price,
        )
        row.updated_at = datetime.now(UTC)
        extra = {"method": AmendMethod.AMEND.value, "amend_id": amend_id}
        event = await add_event(session, row, "amended", {**extra, "requested": change.payload()})
        await session.commit()
    await publish_events(service.events, [event])
    return Amended(row, AmendMethod.AMEND)


async def _cancel_replace(
    service: OrderPath, account: AccountRow, plan: AmendPlan, change: AmendChange
) -> Amended:
    """Cancel at the venue, then write and send the replacement."""
    if isinstance(plan.venue, PaperHandover):
        raise NoVenue(
            "amending a paper order through the API is not available yet: the replacement "
            "would wait for its runner's cancel; cancel the order and place a new one",
            field="cl_ord_id",
        )
    try:
        done = await plan.venue.cancel(plan.cl_ord_id)
        found = await plan.venue.find(plan.cl_ord_id)
    except VenueRefused as exc:
        await _refused(service, account, plan.cl_ord_id, change, exc.reason, cancel_done=True)
        raise AmendRejected(
            f"the venue refused the cancel: {exc.reason}", field="cl_ord_id"
        ) from exc
    except VenueOutcomeUnknown as exc:  # the cancel outbox row stays: the relay settles it
        raise VenueUnanswered(
            f"the venue did not answer the cancel: {exc}", field="cl_ord_id"
        ) from exc
    if not done:
        await _finished_meanwhile(service, account, plan, change, found)
    filled = found.filled_quantity if found is not None else Decimal(0)
    new_id = str(uuid.uuid4())
    old = plan.order.request
    try:
        rest = dataclasses.replace(plan.new, cl_ord_id=new_id, quantity=old.quantity - filled)
        replacement = build_order(rest, plan.instrument)
    except OrderRefused as exc:
        replacement = None
        reason = f"the rest after {filled:f} filled cannot be replaced: {exc.message}"
    async with service.sessions() as session:
        row = await _any_row(session, account.id, plan.cl_ord_id)
        events = await _cancelled(session, row, found, f"replaced by {new_id}")
        if replacement is None:
            events.append(await add_event(session, row, "amend_refused", {"reason": reason}))
        else:
            link = {"method": AmendMethod.CANCEL_REPLACE.value, "replaced_by": new_id}
            events.append(await add_event(session, row, "amended", link))
            _, created = await insert_order(
                session,
                account.id,
                replacement,
                venue=plan.venue.name,
                decision_price=replacement.request.price or row.decision_price,
                mid=row.mid_at_submit,
                created={"replaces": plan.cl_ord_id},
            )
            events.append(created)
        await session.commit()
    await publish_events(service.events, events)
    if replacement is None:
        raise AmendRejected(reason, field="quantity")
    new_row = await service.send(account.id, new_id, replacement, plan.venue)
    return Amended(new_row, AmendMethod.CANCEL_REPLACE, replaces=plan.cl_ord_id)


async def _finished_meanwhile(
    service: OrderPath,
    account: AccountRow,
    plan: AmendPlan,
    change: AmendChange,
    found: VenueOrder | None,
) -> NoReturn:
    """The venue had no open order to cancel: record what it has, then OrderNotOpen."""
    async with service.sessions() as session:
        row = await _any_row(session, account.id, plan.cl_ord_id)
        events = [] if found is None else await outcomes.found(session, row, found)
        await finish_commands(session, row, "cancel")
        reason = "the order is no longer open at the venue"
        extra = {"requested": change.payload(), "reason": reason}
        events.append(await add_event(session, row, "amend_refused", extra))
        await session.commit()
    await publish_events(service.events, events)
    raise OrderNotOpen(f"order {plan.cl_ord_id}: {reason}", field="cl_ord_id")


async def _cancelled(
    session: AsyncSession, row: OrderRow, found: VenueOrder | None, reason: str
) -> list[PendingEvent]:
    events: list[PendingEvent] = []
    if row.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
        venue_id = found.venue_order_id if found is not None else row.venue_order_id or ""
        events += await outcomes.accepted(session, row, venue_id)
    if not OrderStatus(row.status).is_terminal:
        events += await outcomes.cancelled(session, row, reason)
    else:
        await finish_commands(session, row, "cancel")
    return events


async def _refused(
    service: OrderPath,
    account: AccountRow,
    cl_ord_id: str,
    change: AmendChange,
    reason: str,
    *,
    cancel_done: bool = False,
) -> None:
    async with service.sessions() as session:
        row = await _any_row(session, account.id, cl_ord_id)
        if cancel_done:  # refused, not unanswered: the relay must not cancel it later
            await finish_commands(session, row, "cancel", error=reason)
        extra = {"requested": change.payload(), "reason": reason}
        event = await add_event(session, row, "amend_refused", extra)
        await session.commit()
    await publish_events(service.events, [event])


async def _any_row(session: AsyncSession, account_id: uuid.UUID, cl_ord_id: str) -> OrderRow:
    row = await order_by_cl_ord_id(session, account_id, cl_ord_id, lock=True)
    assert row is not None  # read above; orders are never deleted
    return row


def _field_in(reason: str) -> str:
    """The request field a venue refusal names (Kraken names its parameter)."""
    for word, field in (
        ("order_qty", "quantity"),
        ("trigger_price", "trigger_price"),
        ("limit_price", "price"),
        ("Tick size", "price"),
        ("minimum", "quantity"),
    ):
        if word in reason:
            return field
    return "cl_ord_id"
