"""What the exchange remembers: each account's orders, trades and execution events, and each
pair's public tape. Histories are bounded (oldest forgotten first) so a long emulator run or
a benchmark does not grow without limit; the limits are the exchange's settings.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from aether.emulator.exchange.errors import INVALID_KEY, INVALID_ORDER, ExchangeError
from aether.emulator.exchange.orders import (
    ExecType,
    ExecutionEvent,
    Order,
    OrderInfo,
    OrderType,
    PublicTrade,
    Side,
    Trade,
)

__all__ = ["AccountRecords", "Ledger", "Tape"]


class AccountRecords:
    """One account's open and closed orders, trades (oldest first) and pending events.

    ``events`` is False for the house accounts (the market maker and the flow): nobody reads
    their executions, and building one snapshot per order event was most of a market tick.
    """

    __slots__ = ("cl_ord_ids", "closed", "events", "open", "record_events", "trades")

    def __init__(self, history_limit: int, event_limit: int, events: bool = True) -> None:
        self.open: dict[str, Order] = {}
        self.closed: dict[str, Order] = {}  # in closing order, oldest first
        self.cl_ord_ids: dict[str, Order] = {}  # open orders only: ids are reusable after
        self.trades: deque[Trade] = deque(maxlen=history_limit)
        self.events: deque[ExecutionEvent] = deque(maxlen=event_limit)
        self.record_events = events


class Ledger:
    """Order and trade records of every account, and the ``executions`` event queues."""

    def __init__(self, history_limit: int, event_limit: int) -> None:
        if history_limit < 1 or event_limit < 1:
            raise ValueError("history and event limits must be at least 1")
        self._history_limit = history_limit
        self._event_limit = event_limit
        self._accounts: dict[str, AccountRecords] = {}

    def register(self, account: str, *, events: bool = True) -> None:
        """Records for a new account; ``events=False`` keeps no execution-event queue."""
        self._accounts[account] = AccountRecords(self._history_limit, self._event_limit, events)

    def records(self, account: str) -> AccountRecords:
        records = self._accounts.get(account)
        if records is None:
            raise ExchangeError(INVALID_KEY)
        return records

    def knows(self, account: str, txid: str) -> bool:
        records = self.records(account)
        return txid in records.open or txid in records.closed

    def opened(self, order: Order, now_ns: int) -> None:
        """Record a newly accepted order and tell the account (``pending_new``, ``new``)."""
        records = self.records(order.account)
        records.open[order.txid] = order
        if order.cl_ord_id is not None:
            records.cl_ord_ids[order.cl_ord_id] = order
        self.emit(order, ExecType.PENDING_NEW, now_ns)
        self.emit(order, ExecType.NEW, now_ns)

    def closed(self, order: Order) -> None:
        """Move a filled, cancelled or expired order to the closed history."""
        records = self.records(order.account)
        del records.open[order.txid]
        if order.cl_ord_id is not None:
            records.cl_ord_ids.pop(order.cl_ord_id, None)
        records.closed[order.txid] = order
        if len(records.closed) > self._history_limit:
            del records.closed[next(iter(records.closed))]

    def emit(
        self, order: Order, exec_type: ExecType, now_ns: int, trade: Trade | None = None
    ) -> None:
        records = self.records(order.account)
        if records.record_events:
            records.events.append(ExecutionEvent(exec_type, now_ns, order.info(), trade))

    def find_open(self, account: str, ref: str | int) -> list[Order]:
        """Open orders a cancel names: a txid, a cl_ord_id, or (an int) every order of that
        userref."""
        records = self.records(account)
        if isinstance(ref, str):
            order = records.open.get(ref) or records.cl_ord_ids.get(ref)
            return [] if order is None else [order]
        if isinstance(ref, bool):
            return []
        return [o for o in records.open.values() if o.userref == ref]

    def open_orders(self, account: str) -> list[OrderInfo]:
        """Open orders, oldest first."""
        return [o.info() for o in self.records(account).open.values()]

    def closed_orders(self, account: str) -> list[OrderInfo]:
        """Closed orders, most recently closed first (as Kraken lists them)."""
        return [o.info() for o in reversed(self.records(account).closed.values())]

    def query(self, account: str, txids: Sequence[str]) -> list[OrderInfo]:
        """The named orders of ``account``; EOrder:Invalid order for any it does not have."""
        records = self.records(account)
        found = []
        for txid in txids:
            order = records.open.get(txid) or records.closed.get(txid)
            if order is None:
                raise ExchangeError(INVALID_ORDER)
            found.append(order.info())
        return found

    def trades(self, account: str) -> list[Trade]:
        """The account's trades, newest first."""
        return list(reversed(self.records(account).trades))

    def drain(self, account: str) -> list[ExecutionEvent]:
        """Execution events since the last drain, oldest first; the queue is emptied."""
        events = self.records(account).events
        drained = list(events)
        events.clear()
        return drained


class Tape:
    """One pair's public trades: recent history for ``Trades`` and a queue for the
    WebSocket ``trade`` channel. Trade times strictly increase, so a time is a cursor."""

    __slots__ = ("_history", "_pending", "last_ns", "last_price", "next_id")

    def __init__(self, limit: int) -> None:
        self._history: deque[PublicTrade] = deque(maxlen=limit)
        self._pending: deque[PublicTrade] = deque(maxlen=limit)
        self.last_price: Decimal | None = None
        self.last_ns = 0
        self.next_id = 1

    def stamp(self, now_ns: int) -> int:
        """A time for the next trade: ``now_ns``, or just after the previous trade's time when
        several trades print in the same instant (so ``since`` cursors never split a tie)."""
        return max(now_ns, self.last_ns + 1)

    def print(
        self,
        pair: str,
        price: Decimal,
        volume: Decimal,
        time_ns: int,
        side: Side,
        ordertype: OrderType,
    ) -> PublicTrade:
        trade = PublicTrade(self.next_id, pair, price, volume, time_ns, side, ordertype)
        self.next_id += 1
        self.last_price = price
        self.last_ns = time_ns
        self._history.append(trade)
        self._pending.append(trade)
        return trade

    def since(self, since_ns: int | None, count: int) -> list[PublicTrade]:
        """The ``count`` oldest remembered trades after ``since_ns`` (paging forward), or the
        ``count`` most recent when ``since_ns`` is None."""
        if since_ns is None:
            return list(self._history)[-count:] if count else []
        newer: list[PublicTrade] = []
        for trade in reversed(self._history):
            if trade.time_ns <= since_ns:
                break
            newer.append(trade)
        newer.reverse()
        return newer[:count]

    def drain(self) -> list[PublicTrade]:
        drained = list(self._pending)
        self._pending.clear()
        return drained
