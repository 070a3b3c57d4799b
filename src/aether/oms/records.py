"""The order service's rows: orders, their events and outbox rows, written in the caller's
transaction. Status changes follow the domain's state machine (``orders.TRANSITIONS``).

Event payloads carry decimals as strings (exact), and every event written is returned as a
:class:`PendingEvent` so the caller publishes it after the transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import TRANSITIONS, IllegalTransitionError, Order, OrderStatus
from aether.storage.order_tables import OrderEventRow, OrderOutboxRow, OrderRow


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An order event written in a transaction, to publish once it commits."""

    account_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    row: OrderEventRow  # its id is known once flushed: the catch-up position

    def message(self) -> dict[str, Any]:
        return {"event_id": self.row.id, "seq": self.row.seq, **self.payload}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def order_payload(row: OrderRow) -> dict[str, Any]:
    """An order as event payload and API body: exact decimals as strings."""
    return {
        "account_id": str(row.account_id),
        "cl_ord_id": row.cl_ord_id,
        "venue": row.venue,
        "symbol": row.symbol,
        "side": row.side,
        "type": row.type,
        "quantity": _text(row.quantity),
        "price": _text(row.price),
        "trigger_price": _text(row.trigger_price),
        "time_in_force": row.time_in_force,
        "status": row.status,
        "filled_quantity": _text(row.filled_quantity),
        "avg_fill_price": _text(row.avg_fill_price),
        "venue_order_id": row.venue_order_id,
        "reason": row.reason,
        "decision_price": _text(row.decision_price),
        "mid_at_submit": _text(row.mid_at_submit),
    }


async def add_event(
    session: AsyncSession, row: OrderRow, kind: str, extra: Mapping[str, Any] | None = None
) -> PendingEvent:
    """Append the order's next event (``seq`` one past its last)."""
    payload = {**order_payload(row), "event": kind, **(extra or {})}
    last = await session.scalar(
        select(func.coalesce(func.max(OrderEventRow.seq), 0)).where(
            OrderEventRow.order_id == row.id
        )
    )
    event = OrderEventRow(
        order_id=row.id,
        account_id=row.account_id,
        seq=int(last or 0) + 1,
        kind=kind,
        payload=payload,
    )
    session.add(event)
    await session.flush()  # the next event of this order counts this one
    return PendingEvent(row.account_id, kind, payload, event)


def move(row: OrderRow, wanted: OrderStatus, reason: str | None = None) -> None:
    """Change ``row``'s status along the state machine; IllegalTransitionError otherwise."""
    current = OrderStatus(row.status)
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransitionError(row.cl_ord_id, current, wanted)
    row.status = wanted.value
    row.updated_at = datetime.now(UTC)
    if reason is not None:
        row.reason = reason[:500]


async def insert_order(
    session: AsyncSession,
    account_id: uuid.UUID,
    order: Order,
    *,
    venue: str,
    decision_price: Decimal | None,
    mid: Decimal | None,
    created: Mapping[str, Any] | None = None,
) -> tuple[OrderRow, PendingEvent]:
    """The order (status new), its first event (with ``created`` added to its payload) and
    its submit outbox row; flushed."""
    request = order.request
    expire = request.expire_at_ns
    row = OrderRow(
        account_id=account_id,
        cl_ord_id=request.cl_ord_id,
        venue=venue,
        symbol=request.symbol,
        side=request.side.value,
        type=request.type.value,
        quantity=request.quantity,
        price=request.price,
        trigger_price=request.trigger_price,
        time_in_force=request.time_in_force.value,
        expire_at=None if expire is None else datetime.fromtimestamp(expire / 1e9, UTC),
        post_only=request.post_only,
        status=OrderStatus.NEW.value,
        filled_quantity=Decimal(0),
        decision_price=decision_price,
        mid_at_submit=mid,
    )
    session.add(row)
    await session.flush()
    event = await add_event(session, row, "created", created)
    add_command(session, row, "submit")
    await session.flush()
    return row, event


def add_command(session: AsyncSession, row: OrderRow, command: str) -> None:
    session.add(OrderOutboxRow(order_id=row.id, account_id=row.account_id, command=command))


async def finish_commands(
    session: AsyncSession,
    row: OrderRow,
    command: str,
    *,
    state: str = "done",
    error: str | None = None,
) -> None:
    """Mark the order's open ``command`` rows ``state`` (one more attempt each)."""
    await session.execute(
        update(OrderOutboxRow)
        .where(
            OrderOutboxRow.order_id == row.id,
            OrderOutboxRow.command == command,
            OrderOutboxRow.state != "done",
        )
        .values(
            state=state,
            attempts=OrderOutboxRow.attempts + 1,
            last_error=None if error is None else error[:500],
            updated_at=func.now(),
        )
    )


async def order_by_cl_ord_id(
    session: AsyncSession, account_id: uuid.UUID, cl_ord_id: str, *, lock: bool = False
) -> OrderRow | None:
    query = select(OrderRow).where(
        OrderRow.account_id == account_id, OrderRow.cl_ord_id == cl_ord_id
    )
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()
