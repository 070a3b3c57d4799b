"""Fills recorded once: keyed by (venue, venue trade id), so a replayed trade adds nothing.

A new fill moves its order (accepted -> partially filled -> filled) and writes a ``fill``
event; a trade of an order the service does not know is skipped (reconciliation adopts such
orders, a later step).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import OrderStatus
from aether.oms.records import PendingEvent, add_event, move
from aether.oms.venue_port import VenueTrade
from aether.storage.order_tables import FillRow, OrderRow


async def record_trades(
    session: AsyncSession,
    account_id: uuid.UUID,
    venue: str,
    trades: Iterable[VenueTrade],
    fee_asset: str = "USD",
) -> list[PendingEvent]:
    """Record the trades not recorded yet; the events of the fills that were new."""
    events: list[PendingEvent] = []
    for trade in trades:
        row = (
            await session.scalars(
                select(OrderRow)
                .where(
                    OrderRow.account_id == account_id,
                    OrderRow.venue == venue,
                    OrderRow.venue_order_id == trade.venue_order_id,
                )
                .with_for_update()
            )
        ).one_or_none()
        if row is None:
            continue
        inserted = await session.scalar(
            insert(FillRow)
            .values(
                account_id=account_id,
                order_id=row.id,
                venue=venue,
                venue_trade_id=trade.trade_id,
                symbol=trade.symbol,
                side=trade.side,
                price=trade.price,
                quantity=trade.quantity,
                fee=trade.fee,
                fee_asset=fee_asset,
                liquidity="maker" if trade.maker else "taker",
                ts=datetime.fromtimestamp(trade.ts_ns / 1e9, UTC),
            )
            .on_conflict_do_nothing(index_elements=["venue", "venue_trade_id"])
            .returning(FillRow.id)
        )
        if inserted is None:
            continue  # a replay: counted already
        events.append(await _apply(session, row, trade))
    return events


async def _apply(session: AsyncSession, row: OrderRow, trade: VenueTrade) -> PendingEvent:
    if row.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
        move(row, OrderStatus.SUBMITTED if row.status == OrderStatus.NEW else OrderStatus.ACCEPTED)
        if row.status == OrderStatus.SUBMITTED:
            move(row, OrderStatus.ACCEPTED)
    before = row.filled_quantity
    after = before + trade.quantity
    paid = (row.avg_fill_price or 0) * before + trade.price * trade.quantity
    row.filled_quantity = after
    row.avg_fill_price = paid / after
    if not OrderStatus(row.status).is_terminal:
        move(row, OrderStatus.FILLED if after >= row.quantity else OrderStatus.PARTIALLY_FILLED)
    return await add_event(
        session,
        row,
        "fill",
        {
            "trade_id": trade.trade_id,
            "fill_price": f"{trade.price:f}",
            "fill_quantity": f"{trade.quantity:f}",
            "fee": f"{trade.fee:f}",
            "liquidity": "maker" if trade.maker else "taker",
        },
    )
