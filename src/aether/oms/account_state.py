"""The account as pre-trade risk sees it, from the database and the account's venue.

Open orders, recent submissions and the position per pair come from the order service's own
rows (orders, fills); what is available to spend comes from the venue (its balances net of
what open orders hold); the mark is the venue's last price.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.accounts import TradingState
from aether.domain.instruments import Instrument
from aether.domain.orders import TERMINAL
from aether.oms.errors import OrderServiceError
from aether.oms.venue_port import OrderVenue, VenueQuote
from aether.risk.pre_trade import AccountView
from aether.storage.order_tables import FillRow, OrderRow

_TERMINAL = [status.value for status in TERMINAL]
_RATE_WINDOW = timedelta(seconds=60)


async def open_order_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(OrderRow)
        .where(OrderRow.account_id == account_id, OrderRow.status.not_in(_TERMINAL))
    )
    return int(count or 0)


async def position(session: AsyncSession, account_id: uuid.UUID, symbol: str) -> Decimal:
    """Net base quantity the account's recorded fills on ``symbol`` add up to."""
    signed = case((FillRow.side == "buy", FillRow.quantity), else_=-FillRow.quantity)
    total = await session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            FillRow.account_id == account_id, FillRow.symbol == symbol
        )
    )
    return Decimal(total or 0)


async def account_view(
    session: AsyncSession,
    account_id: uuid.UUID,
    trading_state: TradingState,
    instrument: Instrument,
    venue: OrderVenue,
    now: datetime,
) -> tuple[AccountView, VenueQuote]:
    """Everything ``risk.pre_trade.check_order`` needs to know of the account now, and the
    venue's quote. The venue is asked while the database is read (the two are independent)."""
    symbol = instrument.symbol
    try:
        async with asyncio.TaskGroup() as group:
            quote = group.create_task(venue.quote(symbol))
            available = group.create_task(venue.available((instrument.base, instrument.quote)))
            recent = group.create_task(_recent_orders(session, account_id, now))
    except* OrderServiceError as refused:  # the caller's error, not a group of them
        raise refused.exceptions[0] from None
    # The session runs one statement at a time: these two follow the first.
    held = await position(session, account_id, symbol)
    open_orders = await open_order_count(session, account_id)
    view = AccountView(
        trading_state=trading_state,
        available=available.result(),
        positions={symbol: held},
        marks={symbol: quote.result().last},
        open_orders=open_orders,
        recent_order_times_ns=recent.result(),
        now_ns=int(now.timestamp() * 1e9),
    )
    return view, quote.result()


async def _recent_orders(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> list[int]:
    """Creation times (ns) of the account's orders in the order-rate window."""
    times = (
        await session.scalars(
            select(OrderRow.created_at).where(
                OrderRow.account_id == account_id, OrderRow.created_at > now - _RATE_WINDOW
            )
        )
    ).all()
    return [int(t.timestamp() * 1e9) for t in times]
