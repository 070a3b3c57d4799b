"""A paper account run by a runner: market data from the bus moves its engine, its orders
fill in its SimBroker, everything is persisted, a restart continues from the database, and
Kraken (the emulator) never hears of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.storage.order_tables import FillRow, OrderRow
from tests.conftest import Seed
from tests.integration.runner.conftest import NS, T0, Market, configure, running
from tests.support.polling import eventually

SMA_FAST_CROSS = {
    "strategy": {"name": "sma_cross", "params": {"fast": 1, "slow": 2}, "pairs": ["XBTUSD"]},
    "risk": {"max_order_notional_usd": "5000"},
}


async def _count(sessions: async_sessionmaker[AsyncSession], query: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def _rising_market(market: Market, start_minute: int) -> None:
    """Three closed bars, the last crossing up (fast 1 over slow 2), then a book to fill on."""
    m = start_minute
    await market.trade(m + 0.1, "50000")  # first bar: partial, never shown to the strategy
    await market.trade(m + 1.1, "50000")
    await market.trade(m + 2.1, "49000")  # closes 50000: slow needs two bars
    await market.trade(m + 3.1, "51000")  # closes 49000: fast under slow
    await market.trade(m + 4.1, "51500")  # closes 51000: fast crosses above -> buy at market
    await market.book(m + 4.2, "51400", "51500")
    await market.trade(m + 4.3, "51500")
    await market.flush()


async def test_a_paper_account_trades_from_the_bus_and_never_calls_kraken(
    aether_seed: Seed,
    aether_session: AsyncSession,
    runner_sessions: async_sessionmaker[AsyncSession],
    runners: Any,
    market: Market,
    emulator: Any,
) -> None:
    account_id = aether_seed.alice_account
    await configure(aether_session, account_id, SMA_FAST_CROSS)
    calls_before = emulator.runtime.private_calls.total()
    service = await runners("runner-a")
    await running(service, account_id)

    await _rising_market(market, 0)

    fills = select(func.count()).select_from(FillRow).where(FillRow.account_id == account_id)
    await eventually(lambda: _count(runner_sessions, fills), within=20)
    async with runner_sessions() as session:
        order = (
            await session.scalars(select(OrderRow).where(OrderRow.account_id == account_id))
        ).one()
        fill = (await session.scalars(select(FillRow))).one()
    assert (order.side, order.type, order.status, order.venue) == (
        "buy",
        "market",
        "filled",
        "paper",
    )
    assert fill.venue == "paper"
    assert fill.price == Decimal("51500")
    assert order.filled_quantity == fill.quantity > 0
    engine = service.process.held[account_id].runner.engine  # type: ignore[union-attr]
    assert engine.position("XBTUSD") == fill.quantity
    assert emulator.runtime.private_calls.total() == calls_before, "a paper order reached Kraken"


async def test_a_restarted_runner_restores_the_position_from_the_database(
    aether_seed: Seed,
    aether_session: AsyncSession,
    runner_sessions: async_sessionmaker[AsyncSession],
    runners: Any,
    market: Market,
) -> None:
    account_id = aether_seed.alice_account
    await configure(aether_session, account_id, SMA_FAST_CROSS)
    first = await runners("runner-first")
    await running(first, account_id)
    await _rising_market(market, 0)
    fills = select(func.count()).select_from(FillRow).where(FillRow.account_id == account_id)
    await eventually(lambda: _count(runner_sessions, fills), within=20)
    await first.process.stop()  # releases the leases: the next runner takes them at once

    second = await runners("runner-second")
    await running(second, account_id)
    engine = second.process.held[account_id].runner.engine  # type: ignore[union-attr]
    async with runner_sessions() as session:
        bought = await session.scalar(select(func.sum(FillRow.quantity)))
        cost = await session.scalar(
            select(func.sum(FillRow.quantity * FillRow.price + FillRow.fee))
        )
    assert engine.position("XBTUSD") == bought
    assert engine.portfolio.total("USD") == Decimal("10000.00") - cost
    # The same rising market again: already long, the strategy's buy is not repeated.
    await _rising_market(market, 10)
    await eventually(lambda: engine.now_ns == T0 + int(14.3 * 60 * NS))  # the last trade
    orders = select(func.count()).select_from(OrderRow).where(OrderRow.account_id == account_id)
    assert await _count(runner_sessions, orders) == 1
