"""The strategy API: hooks the engine calls, and the context a strategy acts through.

A strategy decides *what* position it wants; the engine turns that into orders through
sizing, pre-trade risk and the venue. Hooks run synchronously inside the engine's loop and
must not do I/O or read a clock: ``ctx.now_ns`` is the time of the event being handled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from aether.domain.bars import Bar
from aether.domain.events import Tick
from aether.domain.executions import Fill
from aether.domain.orders import Order, OrderType, Side


class StrategyContext(Protocol):
    """What a strategy may see and do."""

    @property
    def now_ns(self) -> int: ...

    def position(self, symbol: str) -> Decimal:
        """Base quantity held now (filled, not counting open orders)."""
        ...

    def equity(self) -> Decimal: ...

    def last_price(self, symbol: str) -> Decimal | None: ...

    def target_long(self, symbol: str, reason: str = "signal") -> str | None:
        """Enter a long position sized by the account's configuration, unless one is held or
        being entered. Returns the entry order's cl_ord_id, or None if nothing was sent."""
        ...

    def target_flat(self, symbol: str, reason: str = "signal") -> str | None:
        """Sell the whole position and cancel open entries. Returns the exit's cl_ord_id."""
        ...

    def place(
        self,
        symbol: str,
        side: Side,
        quantity: Decimal,
        *,
        type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        reason: str = "signal",
    ) -> str | None:
        """Send one order through pre-trade risk. None when it was refused (see the
        engine's ``refusals``)."""
        ...

    def cancel(self, cl_ord_id: str) -> None: ...


class Strategy:
    """Base class: override the hooks you need; the others do nothing on purpose."""

    name = "strategy"

    def on_start(self, ctx: StrategyContext) -> None:
        """Called once before the first event."""

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        """Called at each bar's close (``ctx.now_ns`` is the bar's end)."""

    def on_tick(self, ctx: StrategyContext, tick: Tick) -> None:
        """Called on each printed trade of a subscribed pair."""

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """Called after a fill of one of this strategy's orders was booked."""

    def on_order_update(self, ctx: StrategyContext, order: Order) -> None:
        """Called when an order changes state (accepted, rejected, cancelled, expired)."""
