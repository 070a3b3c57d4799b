"""The latest market price of a pair, from the stored market data: what positions are marked at.

Rules a caller must know:

* A pair's mark is the most recent of its latest stored public trade (``market_trades``, by
  time then trade id) and its latest stored candle's close (``candles``: the latest start, the
  shortest interval on a tie, any source; timed at the candle's end). Ties go to the trade,
  which is a real print.
* A pair with neither has no mark (absent from the answer): the caller must say so, never
  stand a fill price in for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.storage.tables import CandleRow, MarketTradeRow

MarkSource = Literal["trade", "candle"]


@dataclass(frozen=True, slots=True)
class Mark:
    """A pair's latest price, when it was true and where it came from."""

    price: Decimal
    at: datetime
    source: MarkSource


async def _latest_trade(session: AsyncSession, symbol: str) -> Mark | None:
    row = (
        await session.execute(
            select(MarketTradeRow.price, MarketTradeRow.ts)
            .where(MarketTradeRow.symbol == symbol)
            .order_by(MarketTradeRow.ts.desc(), MarketTradeRow.trade_id.desc())
            .limit(1)
        )
    ).one_or_none()
    return None if row is None else Mark(row.price, row.ts, "trade")


async def _latest_candle(session: AsyncSession, symbol: str) -> Mark | None:
    row = (
        await session.execute(
            select(CandleRow.close, CandleRow.start, CandleRow.interval_s)
            .where(CandleRow.symbol == symbol)
            .order_by(CandleRow.start.desc(), CandleRow.interval_s)
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return Mark(row.close, row.start + timedelta(seconds=row.interval_s), "candle")


async def latest_marks(session: AsyncSession, symbols: Iterable[str]) -> dict[str, Mark]:
    """The mark of each of ``symbols`` that has one."""
    marks: dict[str, Mark] = {}
    for symbol in sorted(set(symbols)):
        trade, candle = await _latest_trade(session, symbol), await _latest_candle(session, symbol)
        found = [m for m in (trade, candle) if m is not None]
        if found:
            marks[symbol] = max(found, key=lambda m: (m.at, m.source == "trade"))
    return marks
