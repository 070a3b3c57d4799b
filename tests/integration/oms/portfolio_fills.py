"""Orders and their fills written through the order service's own writers (``insert_order``,
``record_trades``) at prices a test chooses, for the portfolio read model's tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import Order, OrderType, Side
from aether.oms.fills import record_trades
from aether.oms.instruments import tradable_instrument
from aether.oms.records import insert_order
from aether.oms.venue_port import VenueTrade
from aether.storage.order_tables import OrderRow
from aether.storage.tables import MarketTradeRow

VENUE = "kraken"


@dataclass(frozen=True)
class Trade:
    """One fill of the order it is given to: quantity, price, USD fee."""

    quantity: str
    price: str
    fee: str


async def order_with_fills(
    session: AsyncSession,
    account_id: uuid.UUID,
    side: Side,
    quantity: str,
    price: str,
    trades: list[Trade],
    *,
    decision_price: str | None = None,
) -> OrderRow:
    """A limit order on XBTUSD, acknowledged by the venue, filled by ``trades``; committed."""
    xbt = await tradable_instrument(session, "XBTUSD")
    assert xbt is not None
    cl_ord_id = str(uuid.uuid4())
    order = Order.create(
        xbt, cl_ord_id=cl_ord_id, side=side, type=OrderType.LIMIT, quantity=quantity, price=price
    )
    decision = Decimal(decision_price) if decision_price else Decimal(price)
    row, _ = await insert_order(
        session, account_id, order, venue=VENUE, decision_price=decision, mid=decision
    )
    row.venue_order_id = f"O{uuid.uuid4().hex[:16]}"
    await session.flush()
    venue_trades = [
        VenueTrade(
            trade_id=f"T{uuid.uuid4().hex[:16]}",
            venue_order_id=row.venue_order_id,
            symbol="XBTUSD",
            side=side.value,
            price=Decimal(t.price),
            quantity=Decimal(t.quantity),
            fee=Decimal(t.fee),
            maker=False,
            ts_ns=time.time_ns(),
        )
        for t in trades
    ]
    written = await record_trades(session, account_id, VENUE, venue_trades)
    assert len(written) == len(trades)
    await session.commit()
    return row


async def print_trade(session: AsyncSession, symbol: str, price: str) -> None:
    """A public trade print of ``symbol`` at ``price``, now: the pair's mark."""
    session.add(
        MarketTradeRow(
            symbol=symbol,
            trade_id=time.time_ns(),
            ts=datetime.now(UTC),
            price=Decimal(price),
            quantity=Decimal("0.01"),
            side="buy",
            source="ws",
        )
    )
    await session.commit()
