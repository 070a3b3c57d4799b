"""An account's recorded fills as the domain's ``Fill``s, in the order they happened: what
a portfolio is rebuilt from."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from aether.storage.order_tables import FillRow, OrderRow

__all__ = ["account_fills"]

_NS = 1_000_000_000


async def account_fills(session: AsyncSession, account_id: uuid.UUID) -> list[Fill]:
    """Every fill of the account, oldest first (time, then the order they were recorded in);
    ``cl_ord_id`` is the order service's id and ``trade_id`` is ``<venue>:<trade id>``."""
    rows = await session.execute(
        select(FillRow, OrderRow.cl_ord_id)
        .join(OrderRow, OrderRow.id == FillRow.order_id)
        .where(FillRow.account_id == account_id)
        .order_by(FillRow.ts, FillRow.id)
    )
    return [
        Fill(
            trade_id=f"{fill.venue}:{fill.venue_trade_id}",
            cl_ord_id=cl_ord_id,
            symbol=fill.symbol,
            side=Side(fill.side),
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            fee_currency=fill.fee_asset,
            liquidity=Liquidity(fill.liquidity),
            ts_ns=int(fill.ts.timestamp()) * _NS + fill.ts.microsecond * 1000,
        )
        for fill, cl_ord_id in rows
    ]
