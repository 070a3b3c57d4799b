"""An account's fills for reading, newest recorded first, in pages keyed by fill id, with
their orders' prices at submission so slippage is visible per fill.

Rules a caller must know:

* Order is by fill id, descending: the order fills were recorded in, which never changes, so
  pages neither repeat nor skip a fill while new ones arrive (new ones have higher ids and
  come before the first page, not in the middle).
* ``before`` is the ``next_before`` of the previous page (a fill id): the page holds fills
  with smaller ids. ``next_before`` is null on the last page.
* ``slippage`` is how much worse than the order's decision price the fill was, per unit, in
  the quote (a buy above or a sell below it is positive); null without a decision price.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import Side
from aether.storage.order_tables import FillRow, OrderRow

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class FillLine:
    id: int
    trade_id: str
    venue: str
    cl_ord_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str
    ts: datetime
    decision_price: Decimal | None
    mid_at_submit: Decimal | None

    @property
    def slippage(self) -> Decimal | None:
        if self.decision_price is None:
            return None
        worse = self.price - self.decision_price
        return worse if self.side is Side.BUY else -worse


@dataclass(frozen=True, slots=True)
class FillPage:
    fills: list[FillLine]
    next_before: int | None


async def fill_page(
    session: AsyncSession, account_id: uuid.UUID, limit: int, before: int | None = None
) -> FillPage:
    """Up to ``limit`` (1..MAX_LIMIT) of the account's fills with ids below ``before``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    query = (
        select(FillRow, OrderRow.cl_ord_id, OrderRow.decision_price, OrderRow.mid_at_submit)
        .join(OrderRow, OrderRow.id == FillRow.order_id)
        .where(FillRow.account_id == account_id)
    )
    if before is not None:
        query = query.where(FillRow.id < before)
    rows = (await session.execute(query.order_by(FillRow.id.desc()).limit(limit + 1))).all()
    lines = [
        FillLine(
            id=row.id,
            trade_id=row.venue_trade_id,
            venue=row.venue,
            cl_ord_id=cl_ord_id,
            symbol=row.symbol,
            side=Side(row.side),
            price=row.price,
            quantity=row.quantity,
            fee=row.fee,
            fee_asset=row.fee_asset,
            liquidity=row.liquidity,
            ts=row.ts,
            decision_price=decision,
            mid_at_submit=mid,
        )
        for row, cl_ord_id, decision, mid in rows
    ]
    more = len(lines) > limit
    return FillPage(lines[:limit], lines[limit - 1].id if more else None)
