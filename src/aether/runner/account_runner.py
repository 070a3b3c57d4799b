"""One account's engine, driven by market events, trading through the order service.

Rules a caller must know:

* ``on_market`` takes the account's market events in time order. A paper account's
  SimBroker sees each event first (its fills are recorded and reach the engine as events),
  then trade prints move the engine (ticks, and the bars they close), then the engine's
  orders go to the order service, one at a time. A paper account's are sent before the next
  event (its venue is this process's SimBroker: an order works from the next event on, as in
  a backtest); a live account's are queued for :meth:`send_forever`, a task of its own, so
  market events never wait for Kraken (its rate limits can hold an order for seconds).
* Bars are built from trade prints at the strategy section's ``bar_seconds``; the first bar
  after a start is partial and not shown to the strategy.
* The engine's ids are mapped to order service ids by :class:`EngineVenue`; the order
  service's answers come back as events through the runner's routing sink
  (:meth:`deliver`). An order the order service refuses is a rejection to the engine.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from aether.domain.bars import Bar
from aether.domain.events import (
    BookSnapshot,
    MarketDataStatus,
    OrderRejected,
    Tick,
)
from aether.domain.orders import OrderStatus
from aether.engine.loop import Engine
from aether.marketdata.candle_builder import CandleAccumulator
from aether.marketdata.records import TradeRecord
from aether.oms.errors import OrderServiceError
from aether.oms.new_order import NewOrder
from aether.oms.service import OrderService
from aether.runner.engine_venue import CancelCommand, Command, EngineVenue, SubmitCommand
from aether.runner.order_events import venue_event
from aether.storage.tables import AccountRow

__all__ = ["AccountRunner", "MarketEvent"]

log = structlog.get_logger("aether.runner")

MarketEvent = Tick | BookSnapshot | MarketDataStatus
FINISHED = frozenset(s.value for s in OrderStatus if s.is_terminal)
#: A paper account's fill path: the market event in, the SimBroker's fills recorded.
PaperFills = Callable[[Tick | BookSnapshot], Awaitable[Any]]


class AccountRunner:
    """The engine of one leased account and what connects it to the platform."""

    def __init__(
        self,
        account: AccountRow,
        engine: Engine,
        bridge: EngineVenue,
        service: OrderService,
        pairs: frozenset[str],
        *,
        bar_seconds: int,
        paper_fills: PaperFills | None = None,
    ) -> None:
        self.account = account
        self.engine = engine
        self.bridge = bridge
        self.service = service
        self.pairs = pairs
        self.paper_fills = paper_fills
        self._bars = {s: _BarBuilder(s, bar_seconds) for s in pairs}
        self._outbox: asyncio.Queue[Command] = asyncio.Queue()

    @property
    def wants_books(self) -> bool:
        """Only a paper account's SimBroker uses order books; the engine trades on prints."""
        return self.paper_fills is not None

    @property
    def account_id(self) -> uuid.UUID:
        return self.account.id

    async def on_market(self, event: MarketEvent) -> None:
        """One market event of one of the account's pairs (see the module's rules)."""
        if self.paper_fills is not None and isinstance(event, Tick | BookSnapshot):
            await self.paper_fills(event)
        if isinstance(event, Tick):
            for bar in self._bars[event.symbol].add(event):
                self.engine.on_bar(bar)
            self.engine.on_tick(event)
        elif isinstance(event, MarketDataStatus):
            self.engine.on_market_status(event)
        if self.paper_fills is not None:
            await self.send_now()
        else:
            self.dispatch()

    def deliver(self, payload: Mapping[str, Any]) -> None:
        """An order event of this account from the order service, for the engine. An order
        the engine did not send (an API order, an earlier tenure's) keeps its own id: the
        engine books its fills and ignores the rest."""
        cl_ord_id = str(payload.get("cl_ord_id"))
        engine_id = self.bridge.engine_id(cl_ord_id) or cl_ord_id
        event = venue_event(payload, engine_id, self.engine.now_ns)
        if event is not None:
            self.bridge.push(event)
        if payload.get("status") in FINISHED:
            self.bridge.forget(cl_ord_id)

    def dispatch(self) -> None:
        """Queue the engine's commands for :meth:`send_forever`, oldest first."""
        for command in self.bridge.take_commands():
            self._outbox.put_nowait(command)

    async def send_now(self) -> None:
        """Send the engine's commands, oldest first, until none are left."""
        while self.bridge.pending:
            for command in self.bridge.take_commands():
                await self._send(command)

    async def send_forever(self) -> None:
        """Send the queued commands to the order service, one at a time, until cancelled."""
        while True:
            await self._send(await self._outbox.get())

    async def _send(self, command: Command) -> None:
        if isinstance(command, SubmitCommand):
            await self._submit(command)
        else:
            await self._cancel(command)

    async def _submit(self, command: SubmitCommand) -> None:
        request = command.request
        new = NewOrder(
            cl_ord_id=command.cl_ord_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            price=request.price,
            trigger_price=request.trigger_price,
            time_in_force=request.time_in_force,
        )
        try:
            await self.service.submit(self.account, new)
        except OrderServiceError as exc:
            log.info("order refused", account=str(self.account_id), reason=str(exc)[:300])
            self.bridge.push(OrderRejected(command.engine_id, str(exc)[:300], self.engine.now_ns))

    async def _cancel(self, command: CancelCommand) -> None:
        try:
            await self.service.cancel(self.account, command.cl_ord_id)
        except OrderServiceError as exc:
            log.info("cancel refused", account=str(self.account_id), reason=str(exc)[:300])


class _BarBuilder:
    """Closed bars of one pair from its trade prints; the first (partial) bar is dropped."""

    def __init__(self, symbol: str, seconds: int) -> None:
        self._candles = CandleAccumulator(symbol, seconds)
        self._partial = True

    def add(self, tick: Tick) -> list[Bar]:
        try:
            record = TradeRecord.of_tick(tick, "ws")
        except ValueError:  # a print without id or side cannot be placed in a bar
            return []
        closed = [candle.bar for candle in self._candles.add(record)]
        if closed and self._partial:
            self._partial = False
            return closed[1:]
        return closed
