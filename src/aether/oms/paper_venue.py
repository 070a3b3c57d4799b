"""The paper venue: one paper account's orders, filled by a SimBroker against live market data.

Rules a caller must know:

* It is an :class:`~aether.oms.venue_port.OrderVenue` and a
  :class:`~aether.oms.venue_port.ReconcilableVenue` named ``paper``; it never touches the
  network. Whoever runs the account (the account runner) feeds it every market event with
  :meth:`PaperOrderVenue.on_market` before the engine sees it, and records the fills that
  returns (:mod:`aether.oms.paper_fills`).
* Ids are deterministic, so they survive a restart and never collide between accounts: the
  venue order id is ``paper-<account>-<cl_ord_id>`` and a trade id
  ``paper-<account>-<cl_ord_id>-<k>``, ``<account>`` being the first 12 hex digits of the
  account id and ``k`` counting the order's fills from 1, continuing after those recorded
  before a restart (the SimBroker's own ``SIM-<n>`` restarts at 1, and a fill whose id was
  seen before is dropped as a replay).
* Fees are the SimBroker's: the account's fee schedule (the instrument's unless given) at the
  tier of its 30-day volume, seeded with ``volume_history`` (earlier fills).
* Orders the venue ends on its own (an IOC remainder, a post-only that would take, what the
  balance could not pay for) are kept for :meth:`PaperOrderVenue.endings`; a cancel the
  caller asked for is answered by :meth:`PaperOrderVenue.cancel` instead.
* After a restart :meth:`PaperOrderVenue.restore` re-places the account's open orders (their
  remaining quantity) without reporting them again.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from aether.domain.bars import Bar
from aether.domain.events import (
    BookSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Quote,
    Tick,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.instruments import FeeSchedule, Instrument
from aether.domain.money import ZERO
from aether.domain.orders import Order, OrderRequest, OrderType, Side
from aether.oms.errors import NoVenue, VenueUnavailable
from aether.oms.venue_port import (
    OrderVenue,
    VenueBalance,
    VenueOpenOrder,
    VenueOrder,
    VenueOrderState,
    VenueQuote,
    VenueRefused,
    VenueTrade,
)
from aether.storage.tables import AccountRow
from aether.venues.sim.broker import SimBroker

MarketEvent = Tick | BookSnapshot | Bar | Quote
#: How many of its fills the venue keeps for :meth:`PaperOrderVenue.trades` (reconciliation's
#: safety net for fills whose transaction failed); older ones are in the database already.
TRADES_KEPT = 50_000
_REQUESTED = "cancelled by request"


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """An order the database has open at the paper venue, to re-place after a restart:
    its request as first sent, what has filled and how many fills are recorded."""

    request: OrderRequest
    filled_quantity: Decimal
    fills: int


@dataclass(frozen=True, slots=True)
class PaperEnding:
    """An order the venue ended on its own (cancelled or expired), with its reason."""

    cl_ord_id: str
    venue_order_id: str
    state: VenueOrderState
    reason: str


@dataclass(slots=True)
class _Track:
    """What the venue knows of one order beyond the SimBroker (which restarts empty)."""

    request: OrderRequest  # as first sent: the full quantity
    opened_ns: int
    filled: Decimal = ZERO
    fills: int = 0
    state: VenueOrderState = VenueOrderState.OPEN
    linked: bool = False  # its venue order id is known to be in the database


class PaperOrderVenue:
    """One paper account's venue over one SimBroker."""

    name = "paper"

    def __init__(
        self,
        account_id: uuid.UUID,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Decimal],
        *,
        fees: FeeSchedule | None = None,
        volume_history: Iterable[tuple[int, Decimal]] = (),
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.account_id = account_id
        self.broker = SimBroker(instruments, balances, fees=fees, volume_history=volume_history)
        self.clock = clock
        self._fees = fees
        self._prefix = f"paper-{account_id.hex[:12]}-"
        self._orders: dict[str, _Track] = {}
        self._kept: deque[VenueTrade] = deque(maxlen=TRADES_KEPT)
        self._fresh: list[VenueTrade] = []
        self._endings: list[PaperEnding] = []
        self._books: dict[str, BookSnapshot] = {}
        self._last: dict[str, Decimal] = {}

    # --- ids ---------------------------------------------------------------------------------
    def venue_order_id(self, cl_ord_id: str) -> str:
        return self._prefix + cl_ord_id

    def _cl_ord_id(self, venue_order_id: str) -> str | None:
        if venue_order_id.startswith(self._prefix):
            return venue_order_id[len(self._prefix) :]
        return None

    # --- market data -------------------------------------------------------------------------
    def on_market(self, event: MarketEvent) -> list[VenueTrade]:
        """Match the working orders against one market event; the fills it made."""
        if isinstance(event, Tick):
            self._last[event.symbol] = event.price
            self.broker.on_trade(event)
        elif isinstance(event, BookSnapshot):
            self._books[event.symbol] = event
            self.broker.on_book(event)
        elif isinstance(event, Bar):
            self._last[event.symbol] = event.close
            if event.symbol in self.broker.instruments:
                self.broker.on_bar(event)
        else:  # a ticker moves the quote only: the SimBroker fills on trades and books
            self._last[event.symbol] = event.last
            return []
        self._drain()
        fresh, self._fresh = self._fresh, []
        return fresh

    def unlinked(self, trades: Iterable[VenueTrade]) -> set[str]:
        """The ``cl_ord_id`` of the orders of ``trades`` whose venue order id may not be in
        the database yet (the fill path writes it with their first recorded fill)."""
        prefix = self._prefix
        return {
            cl_ord_id
            for cl_ord_id in (t.venue_order_id.removeprefix(prefix) for t in trades)
            if not self._orders[cl_ord_id].linked
        }

    def mark_linked(self, cl_ord_ids: Iterable[str]) -> None:
        """Their venue order ids are in the database now: no need to write them again."""
        for cl_ord_id in cl_ord_ids:
            self._orders[cl_ord_id].linked = True

    def endings(self) -> list[PaperEnding]:
        """The orders the venue ended on its own since the last call (each reported once)."""
        ended, self._endings = self._endings, []
        return ended

    # --- commands ----------------------------------------------------------------------------
    async def submit(self, request: OrderRequest) -> str:
        cl_ord_id = request.cl_ord_id
        if cl_ord_id in self._orders:  # placed already: at most once per cl_ord_id
            return self.venue_order_id(cl_ord_id)
        now = self.clock()
        self._orders[cl_ord_id] = _Track(request, now)
        self.broker.submit(request, now)
        refused = self._drain()
        if cl_ord_id in refused:
            del self._orders[cl_ord_id]
            raise VenueRefused(refused[cl_ord_id])
        return self.venue_order_id(cl_ord_id)

    async def cancel(self, cl_ord_id: str) -> bool:
        track = self._orders.get(cl_ord_id)
        if track is None or track.state is not VenueOrderState.OPEN:
            return False
        self.broker.cancel(cl_ord_id, self.clock())
        refused = self._drain(requested=cl_ord_id)
        # The drain moved the order's state: read it again.
        ended = self._orders[cl_ord_id].state is VenueOrderState.CANCELLED
        return ended and cl_ord_id not in refused

    def restore(self, orders: Iterable[RestingOrder]) -> int:
        """Re-place the account's open orders (their remaining quantity) after a restart;
        how many now work. One the balances no longer cover is ended (see :meth:`endings`)."""
        placed = 0
        now = self.clock()
        for resting in orders:
            request = resting.request
            left = request.quantity - resting.filled_quantity
            if request.cl_ord_id in self._orders or left <= ZERO:
                continue
            track = _Track(request, now, resting.filled_quantity, resting.fills, linked=True)
            self._orders[request.cl_ord_id] = track
            self.broker.submit(replace(request, quantity=left), now)
            refused = self._drain()
            reason = refused.get(request.cl_ord_id)
            if reason is not None:
                track.state = VenueOrderState.CANCELLED
                self._endings.append(self._ending(request.cl_ord_id, track, reason))
                continue
            if request.type is OrderType.LIMIT:
                self.broker.mark_rested(request.cl_ord_id)  # it was resting on the book
            placed += 1
        return placed

    # --- reads -------------------------------------------------------------------------------
    async def find(self, cl_ord_id: str) -> VenueOrder | None:
        track = self._orders.get(cl_ord_id)
        if track is None:
            return None
        return VenueOrder(self.venue_order_id(cl_ord_id), track.state, track.filled)

    async def query(self, venue_order_ids: Sequence[str]) -> dict[str, VenueOrder]:
        found: dict[str, VenueOrder] = {}
        for venue_order_id in venue_order_ids:
            cl_ord_id = self._cl_ord_id(venue_order_id)
            order = None if cl_ord_id is None else await self.find(cl_ord_id)
            if order is not None:
                found[venue_order_id] = order
        return found

    async def open_orders(self) -> list[VenueOpenOrder]:
        return [self._open_order(order) for order in self.broker.open_orders()]

    async def available(self, assets: Iterable[str]) -> Mapping[str, Decimal]:
        held = self._held()
        return {a: self.broker.balances.get(a, ZERO) - held.get(a, ZERO) for a in assets}

    async def balances(self) -> Mapping[str, VenueBalance]:
        held = self._held()
        return {
            asset: VenueBalance(total, held.get(asset, ZERO))
            for asset, total in self.broker.balances.items()
        }

    async def quote(self, symbol: str) -> VenueQuote:
        book = self._books.get(symbol)
        last = self._last.get(symbol)
        if book is not None and book.bids and book.asks:
            bid, ask = book.bids[0].price, book.asks[0].price
            return VenueQuote(bid, ask, (bid + ask) / 2 if last is None else last)
        if last is not None:
            return VenueQuote(last, last, last)
        raise VenueUnavailable(
            f"the paper venue has no market data for {symbol} yet: it quotes from the book "
            "and the trades it has been fed",
            field="symbol",
        )

    async def trades(self, since_ns: int) -> list[VenueTrade]:
        return [trade for trade in self._kept if trade.ts_ns >= since_ns]

    async def aclose(self) -> None:
        """Nothing to close: the paper venue holds no connection, file or task."""

    # --- internals ---------------------------------------------------------------------------
    def _drain(self, requested: str | None = None) -> dict[str, str]:
        """Apply the SimBroker's events; the refusals by ``cl_ord_id``. An order ended by the
        venue is kept for :meth:`endings`, unless it is the cancel ``requested`` now."""
        refused: dict[str, str] = {}
        for event in self.broker.poll():
            if isinstance(event, OrderFilled):
                self._filled(event.fill)
            elif isinstance(event, OrderRejected):
                refused[event.cl_ord_id] = event.reason
            elif isinstance(event, OrderCancelled):
                self._ended(event.cl_ord_id, VenueOrderState.CANCELLED, event.reason, requested)
            elif isinstance(event, OrderExpired):
                self._ended(event.cl_ord_id, VenueOrderState.EXPIRED, "expired", requested)
            elif isinstance(event, OrderAccepted):
                continue  # the order is tracked from its submit on
        return refused

    def _ended(
        self, cl_ord_id: str, state: VenueOrderState, reason: str, requested: str | None
    ) -> None:
        track = self._orders.get(cl_ord_id)
        if track is None:
            return
        track.state = state
        if cl_ord_id != requested or reason != _REQUESTED:
            self._endings.append(self._ending(cl_ord_id, track, reason))

    def _filled(self, fill: Fill) -> None:
        track = self._orders[fill.cl_ord_id]
        track.fills += 1
        track.filled += fill.quantity
        if track.filled >= track.request.quantity:
            track.state = VenueOrderState.FILLED
        trade = VenueTrade(
            trade_id=f"{self.venue_order_id(fill.cl_ord_id)}-{track.fills}",
            venue_order_id=self.venue_order_id(fill.cl_ord_id),
            symbol=fill.symbol,
            side=fill.side.value,
            price=fill.price,
            quantity=fill.quantity,
            fee=fill.fee,
            maker=fill.liquidity is Liquidity.MAKER,
            ts_ns=fill.ts_ns,
        )
        self._fresh.append(trade)
        self._kept.append(trade)

    def _ending(self, cl_ord_id: str, track: _Track, reason: str) -> PaperEnding:
        return PaperEnding(cl_ord_id, self.venue_order_id(cl_ord_id), track.state, reason)

    def _held(self) -> dict[str, Decimal]:
        """What open orders hold: a sell its base, a priced buy its cost and taker fee."""
        held: dict[str, Decimal] = {}
        for order in self.broker.open_orders():
            request, instrument = order.request, order.instrument
            if request.side is Side.SELL:
                held[instrument.base] = held.get(instrument.base, ZERO) + order.remaining
            elif request.price is not None:
                fees = self._fees or instrument.fees
                rate = fees.tier_for(self.broker.volume_30d).taker
                cost = order.remaining * request.price * (1 + rate)
                held[instrument.quote] = held.get(instrument.quote, ZERO) + cost
        return held

    def _open_order(self, order: Order) -> VenueOpenOrder:
        track = self._orders[order.cl_ord_id]
        request = track.request
        return VenueOpenOrder(
            venue_order_id=self.venue_order_id(order.cl_ord_id),
            cl_ord_id=order.cl_ord_id,
            symbol=request.symbol,
            side=request.side.value,
            type=request.type.value,
            quantity=request.quantity,
            price=request.price,
            trigger_price=request.trigger_price,
            time_in_force=request.time_in_force.value,
            expire_at_s=None if request.expire_at_ns is None else request.expire_at_ns // 10**9,
            post_only=request.post_only,
            filled_quantity=track.filled,
            opened_at_ns=track.opened_ns,
        )


class PaperVenues:
    """The paper venue of each paper account this process runs: the order service's venue
    choice in an account runner. An account it does not hold has no venue here
    (:class:`~aether.oms.errors.NoVenue`), so a paper order can never reach another venue."""

    def __init__(self) -> None:
        self._venues: dict[uuid.UUID, PaperOrderVenue] = {}

    def add(self, venue: PaperOrderVenue) -> None:
        """Hold ``venue`` for its account (replacing one held before)."""
        self._venues[venue.account_id] = venue

    def remove(self, account_id: uuid.UUID) -> PaperOrderVenue | None:
        """Stop holding the account's venue (its lease moved); the venue, if it was held."""
        return self._venues.pop(account_id, None)

    def get(self, account_id: uuid.UUID) -> PaperOrderVenue | None:
        return self._venues.get(account_id)

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        venue = self._venues.get(account.id)
        if venue is None or account.mode != "paper":
            raise NoVenue(
                f"account {account.name} ({account.id}) is not run as a paper account by "
                "this process",
                field="account_id",
            )
        return venue
