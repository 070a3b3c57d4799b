"""Orders waiting for a pair's last trade price: stop-loss, take-profit and trailing stops.

Kraken's default trigger is ``last``: an order fires when a trade prints at or through its
trigger price. The exchange reports every trade price with :meth:`TriggerBook.touch` and
then collects what fired with :meth:`TriggerBook.fire`, so a stop fires even when a sweep
only passed its price on the way. Fixed triggers sit in two heaps (O(log n) each); trailing
stops move with every trade and are scanned (there are few of them).
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from aether.emulator.exchange.orders import Order, OrderType, Side

__all__ = ["TriggerBook", "fires_below"]


def fires_below(order: Order) -> bool:
    """True when ``order`` fires on a trade at or below its trigger (a sell stop-loss or a
    buy take-profit); otherwise it fires at or above it."""
    stop = order.ordertype in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    return stop == (order.side is Side.SELL)


class TriggerBook:
    """One pair's waiting orders. Cancelled orders are dropped lazily when they surface."""

    __slots__ = ("_above", "_below", "_fired", "_hi", "_lo", "_stale", "_trailing")

    def __init__(self) -> None:
        # (-trigger, seq, order): the highest trigger first; fires when a trade is <= trigger.
        self._below: list[tuple[Decimal, int, Order]] = []
        # (trigger, seq, order): the lowest trigger first; fires when a trade is >= trigger.
        self._above: list[tuple[Decimal, int, Order]] = []
        self._trailing: dict[str, Order] = {}
        self._fired: list[Order] = []
        self._lo: Decimal | None = None
        self._hi: Decimal | None = None
        self._stale = 0

    def __len__(self) -> int:
        return len(self._below) + len(self._above) + len(self._trailing) - self._stale

    def add(self, order: Order, last_price: Decimal | None) -> None:
        """Start watching ``order``; a trailing stop's peak (or trough) starts at the last
        trade. Call :meth:`touch` with the last price to fire an order already through."""
        if order.trail is not None:
            order.extreme = last_price
            self._trailing[order.txid] = order
            return
        price = order.stop_price
        if price is None:
            raise ValueError(f"{order.txid}: a triggered order needs a trigger price")
        if fires_below(order):
            heapq.heappush(self._below, (-price, order.seq, order))
        else:
            heapq.heappush(self._above, (price, order.seq, order))

    def discard(self, order: Order) -> None:
        """Forget a cancelled or expired order (heap entries go stale and are skipped)."""
        if self._trailing.pop(order.txid, None) is None:
            self._stale += 1
            if self._stale > 64 and 2 * self._stale > len(self._below) + len(self._above):
                self._compact()

    def touch(self, price: Decimal) -> None:
        """Report a trade at ``price``: widens the range :meth:`fire` checks and moves every
        trailing stop, marking those the trade reached."""
        self._lo = price if self._lo is None or price < self._lo else self._lo
        self._hi = price if self._hi is None or price > self._hi else self._hi
        for txid, order in list(self._trailing.items()):
            if not order.waiting_for_trigger:
                del self._trailing[txid]
                continue
            trail = order.trail
            extreme = order.extreme
            if trail is None or extreme is None:
                continue
            if order.side is Side.SELL:
                # A sell trails the peak and fires when the price falls back by the offset.
                extreme = max(extreme, price)
                order.stop_price = extreme - trail.of(extreme)
                hit = price <= order.stop_price
            else:
                extreme = min(extreme, price)
                order.stop_price = extreme + trail.of(extreme)
                hit = price >= order.stop_price
            order.extreme = extreme
            if hit:
                del self._trailing[txid]
                self._fired.append(order)

    def fire(self) -> list[Order]:
        """Orders the trades since the last call reached, in time priority (placement order)."""
        fired, self._fired = self._fired, []
        lo, hi = self._lo, self._hi
        self._lo = self._hi = None
        if lo is not None:
            while self._below and -self._below[0][0] >= lo:
                fired.append(heapq.heappop(self._below)[2])
        if hi is not None:
            while self._above and self._above[0][0] <= hi:
                fired.append(heapq.heappop(self._above)[2])
        live = []
        for order in fired:
            if order.waiting_for_trigger and order.is_open:
                live.append(order)
            elif order.trail is None:
                self._stale = max(0, self._stale - 1)
        live.sort(key=lambda o: o.seq)
        return live

    def _compact(self) -> None:
        self._below = [e for e in self._below if e[2].is_open and e[2].waiting_for_trigger]
        self._above = [e for e in self._above if e[2].is_open and e[2].waiting_for_trigger]
        heapq.heapify(self._below)
        heapq.heapify(self._above)
        self._stale = 0
