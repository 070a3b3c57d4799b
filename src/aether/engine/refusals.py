"""What pre-trade risk sees of an engine's account, and the orders it refused."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Set
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.accounts import TradingState
from aether.domain.instruments import Instrument
from aether.domain.orders import Side
from aether.engine.portfolio import Portfolio
from aether.risk.pre_trade import RATE_WINDOW_NS, AccountView, RuleFailure


@dataclass(frozen=True, slots=True)
class Refusal:
    """An order the engine did not send, and every rule that stopped it."""

    ts_ns: int
    symbol: str
    side: Side
    reason: str  # the strategy's reason tag for the order
    failures: tuple[RuleFailure, ...]


def account_view(
    portfolio: Portfolio,
    instruments: Mapping[str, Instrument],
    instrument: Instrument,
    *,
    trading_state: TradingState,
    marks: Mapping[str, Decimal],
    open_orders: int,
    recent: deque[int],
    now_ns: int,
    stale: Set[str],
) -> AccountView:
    """The account as pre-trade risk checks an order on ``instrument`` at ``now_ns``.

    ``recent`` (submission times, oldest first) loses the times that have left the
    order-rate window, so it stays bounded.
    """
    horizon = now_ns - RATE_WINDOW_NS
    while recent and recent[0] <= horizon:
        recent.popleft()
    return AccountView(
        trading_state=trading_state,
        available={
            portfolio.quote: portfolio.available(portfolio.quote),
            instrument.base: portfolio.available(instrument.base),
        },
        positions={s: portfolio.total(i.base) for s, i in instruments.items()},
        marks=dict(marks),
        open_orders=open_orders,
        recent_order_times_ns=tuple(recent),
        now_ns=now_ns,
        stale_symbols=frozenset(stale),
    )
