"""The portfolio read model of one account, from PostgreSQL only: balances, positions and PnL.

Rules a caller must know:

* Lots, realised PnL and fees are the account's fills replayed through the engine's
  ``Portfolio`` (:mod:`aether.oms.portfolio_replay`); nothing here computes them again.
* Balances: a paper account's are its starting cash plus its fills, ``held`` being what its
  open orders hold, by the paper venue's rule (``Portfolio.reserve`` of each order's
  unfilled quantity: a sell its base; a priced buy its cost at the limit plus the taker fee
  of the tier its 30-day volume reaches; an unpriced buy nothing until it fills); an open
  order the funds do not cover is listed in ``unheld_orders``. A
  live account's are the venue's last reported snapshot (``account_balances``), with when it
  was observed; ``observed_at`` is null when reconciliation never ran.
* Marks are the latest stored market prices (:mod:`aether.oms.marks`). A position without a
  mark has a null mark and unrealised PnL; the PnL's unrealised total and equity are then
  null too, and ``unmarked`` names the pairs.
* Equity: paper, cash plus every held asset at its mark; live, the snapshot's USD plus every
  other asset at the mark of its USD pair.
* Realised PnL is gross (``Portfolio.realized_pnl``); ``net_realized_pnl`` takes the fees off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.money import ZERO
from aether.domain.orders import OrderStatus, Side
from aether.engine.portfolio import InsufficientFundsError
from aether.oms.balance_snapshots import load_balances
from aether.oms.marks import Mark, latest_marks
from aether.oms.portfolio_replay import QUOTE, Replay, replay_account, usd_pair_of
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow
from aether.venues.sim.broker import VOLUME_WINDOW_NS

_OPEN = tuple(s.value for s in OrderStatus if not s.is_terminal)


@dataclass(frozen=True, slots=True)
class BalanceLine:
    asset: str
    total: Decimal
    held: Decimal

    @property
    def available(self) -> Decimal:
        return self.total - self.held


@dataclass(frozen=True, slots=True)
class BalancesView:
    mode: str
    source: Literal["fills", "venue"]
    observed_at: datetime | None
    balances: list[BalanceLine]
    unheld_orders: list[str]


@dataclass(frozen=True, slots=True)
class PositionLine:
    symbol: str
    quantity: Decimal
    average_cost: Decimal | None
    cost: Decimal
    mark: Mark | None
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class PnlView:
    mode: str
    starting_cash: Decimal | None
    realized_pnl: Decimal
    fees: Decimal
    net_realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    equity: Decimal | None
    unmarked: list[str]
    unmatched_fills: list[str]
    as_of: datetime


async def _open_orders(session: AsyncSession, account_id: uuid.UUID) -> list[OrderRow]:
    rows = await session.scalars(
        select(OrderRow)
        .where(OrderRow.account_id == account_id, OrderRow.status.in_(_OPEN))
        .order_by(OrderRow.id)
    )
    return list(rows.all())


def _volume_30d(replay: Replay, now: datetime) -> Decimal:
    """USD traded in the 30 days before ``now``: what picks the fee tier (as the SimBroker)."""
    horizon = int(now.timestamp()) * 1_000_000_000 - VOLUME_WINDOW_NS
    return sum((f.notional for f in replay.fills if f.ts_ns > horizon), ZERO)


def _hold_open_orders(replay: Replay, orders: list[OrderRow], now: datetime) -> list[str]:
    """Reserve each open order's unfilled part; the cl_ord_ids the funds did not cover."""
    portfolio, unheld = replay.portfolio, []
    volume = _volume_30d(replay, now)
    for order in orders:
        left = order.quantity - order.filled_quantity
        side = Side(order.side)
        if left <= ZERO or (side is Side.BUY and order.price is None):
            continue  # an unpriced buy holds nothing until it fills, as at the paper venue
        fee_rate = portfolio.instruments[order.symbol].fees.tier_for(volume).taker
        price = order.price or ZERO  # a sell holds its base whatever the price
        try:
            portfolio.reserve(order.cl_ord_id, side, order.symbol, left, price, fee_rate)
        except InsufficientFundsError:
            unheld.append(order.cl_ord_id)
    return unheld


async def balances(session: AsyncSession, account: AccountRow) -> BalancesView:
    """The account's balances (see the module's rules)."""
    if account.mode == "live":
        rows = await load_balances(session, account.id)
        lines = [BalanceLine(r.asset, r.total, r.held) for r in rows]
        observed = max((r.observed_at for r in rows), default=None)
        return BalancesView(account.mode, "venue", observed, lines, [])
    orders = await _open_orders(session, account.id)
    replay = await replay_account(session, account, {o.symbol for o in orders})
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    unheld = _hold_open_orders(replay, orders, now)
    held = replay.portfolio.balances()
    lines = [BalanceLine(a, b.total, b.reserved) for a, b in sorted(held.items())]
    return BalancesView(account.mode, "fills", None, lines, unheld)


def _position_lines(replay: Replay, marks: dict[str, Mark]) -> list[PositionLine]:
    lines = []
    for symbol, position in sorted(replay.portfolio.positions().items()):
        mark = marks.get(symbol)
        if not position.quantity:
            unrealized: Decimal | None = ZERO
        else:
            unrealized = None if mark is None else position.unrealized_pnl(mark.price)
        lines.append(
            PositionLine(
                symbol=symbol,
                quantity=position.quantity,
                average_cost=position.average_price,
                cost=position.cost,
                mark=mark,
                unrealized_pnl=unrealized,
                realized_pnl=position.realized_pnl,
            )
        )
    return lines


async def _positions(
    session: AsyncSession, account: AccountRow
) -> tuple[Replay, list[PositionLine]]:
    replay = await replay_account(session, account)
    marks = await latest_marks(session, replay.portfolio.positions())
    return replay, _position_lines(replay, marks)


async def positions(session: AsyncSession, account: AccountRow) -> list[PositionLine]:
    """Every pair the account's fills traded: open quantity, its cost and PnL."""
    return (await _positions(session, account))[1]


async def _live_equity(session: AsyncSession, account_id: uuid.UUID) -> tuple[Decimal, list[str]]:
    """The venue snapshot valued at the marks; the assets without a mark."""
    equity, unmarked = ZERO, []
    for row in await load_balances(session, account_id):
        if row.asset == QUOTE:
            equity += row.total
            continue
        if not row.total:
            continue
        symbol = await usd_pair_of(session, row.asset)
        mark = None if symbol is None else (await latest_marks(session, [symbol])).get(symbol)
        if mark is None:
            unmarked.append(symbol or row.asset)
        else:
            equity += row.total * mark.price
    return equity, unmarked


async def pnl(session: AsyncSession, account: AccountRow) -> PnlView:
    """The account's realised and unrealised PnL, fees and equity, as of now."""
    replay, lines = await _positions(session, account)
    portfolio = replay.portfolio
    open_lines = [line for line in lines if line.quantity]
    unmarked = [line.symbol for line in open_lines if line.mark is None]
    unrealized = (
        None if unmarked else sum((line.unrealized_pnl or ZERO for line in open_lines), ZERO)
    )
    if account.mode == "live":
        value, unvalued = await _live_equity(session, account.id)
        unmarked = sorted(set(unmarked) | set(unvalued))
        equity = None if unvalued else value
    else:
        for line in open_lines:
            if line.mark is not None:
                portfolio.mark(line.symbol, line.mark.price)
        equity = None if unmarked else portfolio.equity()
    as_of: datetime = (await session.execute(select(func.now()))).scalar_one()
    return PnlView(
        mode=account.mode,
        starting_cash=replay.starting_cash,
        realized_pnl=portfolio.realized_pnl,
        fees=portfolio.fees_paid_usd,
        net_realized_pnl=portfolio.realized_pnl - portfolio.fees_paid_usd,
        unrealized_pnl=unrealized,
        equity=equity,
        unmarked=unmarked,
        unmatched_fills=replay.unmatched,
        as_of=as_of,
    )
