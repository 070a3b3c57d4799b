"""The engine's order book-keeping: client order ids, the orders sent and still open, their
fills, the orders refused, and recent submission times.

It keeps records and order states only: the engine decides what to send, books fills in the
portfolio and tells the strategy. Pure: no I/O, no clock (times are arguments).
"""

from __future__ import annotations

from collections import deque

from aether.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
    VenueEvent,
)
from aether.domain.executions import Fill
from aether.domain.orders import Order, OrderStatus, Side
from aether.engine.refusals import Refusal

#: Refusals a ledger without history keeps (the latest).
RECENT_REFUSALS = 1000


class OrderLedger:
    """One engine's orders, keyed by ``cl_ord_id`` (``<prefix>-<n>``, in order of creation).

    A backtest keeps the whole history (its report needs every order and fill); an account
    runner, which runs for months, keeps none (``keep_history=False``): its orders and fills
    are in the database."""

    def __init__(self, order_id_prefix: str, *, keep_history: bool = True) -> None:
        self._prefix = order_id_prefix
        self._seq = 0
        self.keep_history = keep_history
        # Every order sent, in order; without history, only those not finished yet.
        self.orders: dict[str, Order] = {}
        self.open_orders: dict[str, Order] = {}  # sent and not yet in a terminal state
        self.fills: list[Fill] = []  # every fill booked, in order (none without history)
        # Orders not sent, with the rules that stopped them (the latest ones without history).
        self.refusals: deque[Refusal] = deque(maxlen=None if keep_history else RECENT_REFUSALS)
        # Submission times, oldest first; the order-rate check drops those out of its window.
        self.recent: deque[int] = deque()

    def next_id(self) -> str:
        """A new ``cl_ord_id``; one is used up even when the order is then refused."""
        self._seq += 1
        return f"{self._prefix}-{self._seq}"

    def sent(self, order: Order, now_ns: int) -> None:
        """Record an order that passed pre-trade risk, as submitted and open."""
        order.submit()
        self.orders[order.cl_ord_id] = order
        self.open_orders[order.cl_ord_id] = order
        self.recent.append(now_ns)

    def refused(self, refusal: Refusal) -> None:
        self.refusals.append(refusal)

    def apply_status(self, order: Order, event: VenueEvent) -> bool:
        """Apply a venue's status event (not a fill) to ``order``.

        False when the event is not about this order: a rejection of a duplicate that reuses
        its ``cl_ord_id`` after it was submitted.
        """
        if isinstance(event, OrderAccepted):
            order.accept()
        elif isinstance(event, OrderRejected):
            if order.status is not OrderStatus.SUBMITTED:
                return False
            order.reject(event.reason)
        elif isinstance(event, OrderCancelled):
            order.cancel(event.reason)
        elif isinstance(event, OrderExpired):
            order.expire()
        return True

    def book_fill(self, order: Order, fill: Fill) -> None:
        """Record a fill the portfolio has booked (so never a replayed one)."""
        order.apply_fill(fill.quantity, fill.price)
        if self.keep_history:
            self.fills.append(fill)

    def close(self, order: Order) -> None:
        """``order`` reached a terminal state: it is no longer open (and, without history,
        forgotten: a late fill of it is then booked as one of an order not sent here)."""
        self.open_orders.pop(order.cl_ord_id, None)
        if not self.keep_history:
            self.orders.pop(order.cl_ord_id, None)

    def open_on(self, symbol: str, side: Side) -> tuple[Order, ...]:
        """The open orders on one side of ``symbol``, oldest first."""
        return tuple(o for o in self.open_orders.values() if _on(o, symbol, side))

    def has_open(self, symbol: str, side: Side) -> bool:
        return any(_on(o, symbol, side) for o in self.open_orders.values())


def _on(order: Order, symbol: str, side: Side) -> bool:
    return order.request.symbol == symbol and order.request.side is side
