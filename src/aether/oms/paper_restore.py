"""What a restarted paper venue is rebuilt from: the database, never memory.

* :func:`resting_orders`: the account's orders open at the paper venue (accepted or partly
  filled), with what has filled and how many fills are recorded, for
  :meth:`~aether.oms.paper_venue.PaperOrderVenue.restore`. An order still ``new`` or
  ``submitted`` has no venue answer recorded: the outbox relay settles it (the venue does not
  know it after a restart, so the relay sends it).
* :func:`volume_history`: the account's paper fills of the last 30 days as (time, USD
  notional), so the restarted SimBroker charges the same fee tier.

The balances come from :func:`aether.oms.portfolio_replay.replay_fills` (the starting cash
and every fill, through the engine's portfolio): one definition for the runner, the venue
and the portfolio API.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderStatus
from aether.oms.paper_venue import PaperOrderVenue, RestingOrder
from aether.oms.relay import request_of
from aether.storage.order_tables import FillRow, OrderRow

_NS = 1_000_000_000
_VOLUME_WINDOW = timedelta(days=30)
_RESTING = (OrderStatus.ACCEPTED.value, OrderStatus.PARTIALLY_FILLED.value)


async def resting_orders(session: AsyncSession, account_id: uuid.UUID) -> list[RestingOrder]:
    """The account's open paper orders, oldest first, each with its recorded fills."""
    fills = (
        select(FillRow.order_id, func.count().label("n"))
        .where(FillRow.account_id == account_id)
        .group_by(FillRow.order_id)
        .subquery()
    )
    rows = await session.execute(
        select(OrderRow, func.coalesce(fills.c.n, 0))
        .outerjoin(fills, fills.c.order_id == OrderRow.id)
        .where(
            OrderRow.account_id == account_id,
            OrderRow.venue == PaperOrderVenue.name,
            OrderRow.status.in_(_RESTING),
        )
        .order_by(OrderRow.id)
    )
    return [RestingOrder(request_of(row), row.filled_quantity, int(n)) for row, n in rows]


async def volume_history(
    session: AsyncSession, account_id: uuid.UUID, now: datetime
) -> list[tuple[int, Decimal]]:
    """The account's paper fills of the 30 days before ``now``: (time in ns, USD notional)."""
    rows = await session.execute(
        select(FillRow.ts, FillRow.price * FillRow.quantity).where(
            FillRow.account_id == account_id,
            FillRow.venue == PaperOrderVenue.name,
            FillRow.ts > now - _VOLUME_WINDOW,
        )
    )
    return [(int(ts.timestamp()) * _NS, Decimal(notional)) for ts, notional in rows]
