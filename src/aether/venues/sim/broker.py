"""SimBroker: the paper and backtest venue. Fills orders against the market data it is given.

It implements the ``Venue`` protocol, so the engine cannot tell it from Kraken. Like an
exchange it keeps the account's balances and refuses or trims what they cannot pay for:

* at acceptance, a sell needs the base asset and a priced buy the quote (fees included);
* at a fill, the quantity is cut to what the balance covers (a market buy that gapped up),
  and the rest is cancelled with ``insufficient funds``.

Fill prices are the market's as printed (a bar's open, a book level, a trade's price), never
re-rounded to today's tick; only prices the platform sets are on the grid (see
``aether.venues.sim.fills``). Fees come from the instrument's schedule at the tier of the
simulated 30-day USD volume, or from ``fees`` when given; they are charged in USD and rounded
half-up to 1e-8. ``volume_history`` seeds that volume with the account's earlier fills
(time, USD notional), so a restarted paper account keeps its tier; they age out as its own do.
Fills carry the open time of the bar (or the time of the tick / book) that
made them; trade ids are ``SIM-<n>`` in order, so a run repeats exactly. With ``latency_ns``
an order reaches the venue that much after it was sent and only works on data from then on.
Bar matching follows ``aether.venues.sim.fills``; book and trade matching follow
``aether.venues.sim.book``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from aether.domain.bars import Bar
from aether.domain.events import (
    BookSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Tick,
    VenueEvent,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.instruments import FeeSchedule, Instrument
from aether.domain.money import ZERO, floor_to_step
from aether.domain.orders import Order, OrderRequest, Side
from aether.venues.sim.book import BookMatch, match_book, match_trade
from aether.venues.sim.fills import BarMatch, BarMatcher, Slippage, WorkingOrder

NS = 1_000_000_000
FEE_STEP = Decimal("0.00000001")
VOLUME_WINDOW_NS = 30 * 86_400 * NS
NO_SLIPPAGE = Slippage()


class SimBroker:
    """A simulated venue for one account."""

    name = "sim"

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Decimal],
        *,
        slippage: Slippage = NO_SLIPPAGE,
        participation: Decimal | None = None,
        latency_ns: int = 0,
        fees: FeeSchedule | None = None,
        volume_history: Iterable[tuple[int, Decimal]] = (),
    ) -> None:
        if latency_ns < 0:
            raise ValueError("latency_ns must not be negative")
        self.instruments = dict(instruments)
        self.balances: dict[str, Decimal] = dict(balances)
        self.slippage = slippage
        self.latency_ns = latency_ns
        self._fees = fees
        self._matchers = {
            s: BarMatcher(i, slippage, participation) for s, i in self.instruments.items()
        }
        self._in_flight: deque[tuple[int, Order]] = deque()
        self._working: dict[str, list[WorkingOrder]] = {}
        self._by_id: dict[str, WorkingOrder] = {}
        self._seen_ids: set[str] = set()
        self._events: list[VenueEvent] = []
        self._volume: deque[tuple[int, Decimal]] = deque()
        self.volume_30d = ZERO
        for ts_ns, notional in sorted(volume_history, key=lambda past: past[0]):
            self._add_volume(ts_ns, notional)
        self._trades = 0

    # --- the Venue protocol ------------------------------------------------------------------
    def submit(self, request: OrderRequest, now_ns: int) -> None:
        if self._in_flight:
            self._arrive(now_ns)  # what reached the venue before now is reported first
        if request.cl_ord_id in self._seen_ids:
            self._events.append(OrderRejected(request.cl_ord_id, "duplicate cl_ord_id", now_ns))
            return
        self._seen_ids.add(request.cl_ord_id)
        instrument = self.instruments.get(request.symbol)
        if instrument is None:
            self._events.append(
                OrderRejected(request.cl_ord_id, f"unknown pair {request.symbol}", now_ns)
            )
            return
        order = Order(request, instrument)
        order.submit()
        self._in_flight.append((now_ns + self.latency_ns, order))
        if not self.latency_ns:
            self._arrive(now_ns)

    def cancel(self, cl_ord_id: str, now_ns: int) -> None:
        self._arrive(now_ns)
        work = self._by_id.get(cl_ord_id)
        if work is None:
            for i, (_, order) in enumerate(self._in_flight):
                if order.cl_ord_id == cl_ord_id:  # still on its way: it never works
                    del self._in_flight[i]
                    order.cancel("cancelled by request")
                    self._events.append(OrderCancelled(cl_ord_id, "cancelled by request", now_ns))
                    return
            self._events.append(OrderRejected(cl_ord_id, "unknown or finished order", now_ns))
            return
        self._end(work, now_ns, OrderCancelled(cl_ord_id, "cancelled by request", now_ns))

    def mark_rested(self, cl_ord_id: str) -> bool:
        """Treat a working limit as having rested on the book already (one re-placed after a
        restart was resting): a book that crosses it fills it at its price, as the maker.
        False when no such order is working."""
        work = self._by_id.get(cl_ord_id)
        if work is None:
            return False
        work.rested = True
        return True

    def poll(self) -> list[VenueEvent]:
        if not self._events:
            return []
        events, self._events = self._events, []
        return events

    # --- market data -----------------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> None:
        """Match the working orders of ``bar.symbol`` against one bar."""
        start_ns = bar.start * NS
        if not self._in_flight and not self._working.get(bar.symbol):
            return  # the common case in a backtest: nothing to do
        matcher = self._matchers[bar.symbol]
        for work in self._due(bar.symbol, start_ns):
            self._apply(work, matcher.match(work, bar), start_ns)

    def on_trade(self, tick: Tick) -> None:
        """Match the working orders of ``tick.symbol`` against one printed trade."""
        for work in self._due(tick.symbol, tick.ts_ns):
            self._apply_book(work, match_trade(work, tick), tick.ts_ns)

    def on_book(self, book: BookSnapshot) -> None:
        """Match the working orders of ``book.symbol`` against the book (walk it)."""
        for work in self._due(book.symbol, book.ts_ns):
            self._apply_book(work, match_book(work, book), book.ts_ns)

    # --- internals ---------------------------------------------------------------------------
    def _due(self, symbol: str, ts_ns: int) -> list[WorkingOrder]:
        """The working orders of ``symbol`` at ``ts_ns``, after arrivals and expiries."""
        if self._in_flight:
            self._arrive(ts_ns)
        working = self._working.get(symbol)
        if not working:
            return []
        return [w for w in tuple(working) if not self._expired(w, ts_ns)]

    def _apply_book(self, work: WorkingOrder, match: BookMatch, ts_ns: int) -> None:
        cl_ord_id = work.order.cl_ord_id
        for price, quantity, liquidity in match.fills:
            if work.order.status.is_terminal:
                return
            self._fill(work, price, quantity, liquidity, ts_ns)
        if work.order.status.is_terminal:
            return
        if match.rejected is not None:
            self._end(work, ts_ns, OrderCancelled(cl_ord_id, match.rejected, ts_ns))
        elif match.expired:
            self._end(work, ts_ns, OrderExpired(cl_ord_id, ts_ns))

    def _arrive(self, now_ns: int) -> None:
        while self._in_flight and self._in_flight[0][0] <= now_ns:
            at, order = self._in_flight.popleft()
            self._expire_volume(at)
            refusal = self._refusal(order)
            if refusal is not None:
                order.reject(refusal)
                self._events.append(OrderRejected(order.cl_ord_id, refusal, at))
                continue
            order.accept()
            work = WorkingOrder(order)
            self._working.setdefault(order.request.symbol, []).append(work)
            self._by_id[order.cl_ord_id] = work
            self._events.append(OrderAccepted(order.cl_ord_id, at))

    def _refusal(self, order: Order) -> str | None:
        request, instrument = order.request, order.instrument
        if request.side is Side.SELL:
            if request.quantity > self.balances.get(instrument.base, ZERO):
                return "insufficient funds"
        elif request.price is not None:
            cost = request.quantity * request.price * (1 + self._rates(instrument)[1])
            if cost > self.balances.get(instrument.quote, ZERO):
                return "insufficient funds"
        return None

    def _expired(self, work: WorkingOrder, now_ns: int) -> bool:
        request = work.order.request
        expire_at = request.expire_at_ns
        if expire_at is not None and expire_at <= now_ns:  # only GTD orders carry one
            self._end(work, now_ns, OrderExpired(request.cl_ord_id, now_ns))
            return True
        return False

    def _apply(self, work: WorkingOrder, match: BarMatch, ts_ns: int) -> None:
        cl_ord_id = work.order.cl_ord_id
        if match.rejected is not None:
            self._end(work, ts_ns, OrderCancelled(cl_ord_id, match.rejected, ts_ns))
            return
        if match.price is not None and match.liquidity is not None:
            self._fill(work, match.price, match.quantity, match.liquidity, ts_ns)
        if match.expired and not work.order.status.is_terminal:
            self._end(work, ts_ns, OrderExpired(cl_ord_id, ts_ns))

    def _rates(self, instrument: Instrument) -> tuple[Decimal, Decimal]:
        tier = (self._fees or instrument.fees).tier_for(self.volume_30d)
        return tier.maker, tier.taker

    def _fill(
        self,
        work: WorkingOrder,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
        ts_ns: int,
    ) -> None:
        order = work.order
        instrument = order.instrument
        side = order.request.side
        self._expire_volume(ts_ns)  # the tier is that of the 30 days before this fill
        maker, taker = self._rates(instrument)
        rate = maker if liquidity is Liquidity.MAKER else taker
        wanted = quantity
        quantity = self._affordable(instrument, side, quantity, price, rate)
        if quantity <= ZERO:
            self._end(work, ts_ns, OrderCancelled(order.cl_ord_id, "insufficient funds", ts_ns))
            return
        notional = quantity * price
        fee = (notional * rate).quantize(FEE_STEP, ROUND_HALF_UP)
        self._trades += 1
        fill = Fill(
            f"SIM-{self._trades}",
            order.cl_ord_id,
            instrument.symbol,
            side,
            quantity,
            price,
            fee,
            instrument.quote,
            liquidity,
            ts_ns,
        )
        base, quote = instrument.base, instrument.quote
        balances = self.balances
        if side is Side.BUY:
            balances[quote] = balances.get(quote, ZERO) - notional - fee
            balances[base] = balances.get(base, ZERO) + quantity
        else:
            balances[base] = balances.get(base, ZERO) - quantity
            balances[quote] = balances.get(quote, ZERO) + notional - fee
        self._add_volume(ts_ns, notional)
        order.apply_fill(quantity, price)
        self._events.append(OrderFilled(fill))
        if order.status.is_terminal:
            self._forget(work)
        elif quantity < wanted:
            # What the balance could not pay for is cancelled, as an exchange would.
            self._end(work, ts_ns, OrderCancelled(order.cl_ord_id, "insufficient funds", ts_ns))

    def _affordable(
        self, instrument: Instrument, side: Side, quantity: Decimal, price: Decimal, rate: Decimal
    ) -> Decimal:
        if side is Side.SELL:
            held = self.balances.get(instrument.base, ZERO)
            return quantity if quantity <= held else floor_to_step(held, instrument.lot_size)
        cash = self.balances.get(instrument.quote, ZERO)

        def cost(q: Decimal) -> Decimal:  # as _fill charges it: the fee rounded half-up
            notional = q * price
            return notional + (notional * rate).quantize(FEE_STEP, ROUND_HALF_UP)

        if cost(quantity) <= cash:
            return quantity
        lot = instrument.lot_size
        affordable = ((cash / (price * (1 + rate))) / lot).quantize(Decimal(1), ROUND_FLOOR) * lot
        while affordable > ZERO and cost(affordable) > cash:  # the fee rounded up past the cash
            affordable -= lot
        return affordable

    def _add_volume(self, ts_ns: int, notional: Decimal) -> None:
        self._volume.append((ts_ns, notional))
        self.volume_30d += notional

    def _expire_volume(self, now_ns: int) -> None:
        """Drop the fills that are 30 days or more before ``now_ns`` from ``volume_30d``."""
        volume = self._volume
        horizon = now_ns - VOLUME_WINDOW_NS
        while volume and volume[0][0] <= horizon:
            self.volume_30d -= volume.popleft()[1]

    def _end(self, work: WorkingOrder, ts_ns: int, event: OrderCancelled | OrderExpired) -> None:
        if isinstance(event, OrderExpired):
            work.order.expire()
        else:
            work.order.cancel(event.reason)
        self._forget(work)
        self._events.append(event)

    def _forget(self, work: WorkingOrder) -> None:
        self._by_id.pop(work.order.cl_ord_id, None)
        self._working[work.order.request.symbol].remove(work)

    def open_orders(self) -> list[Order]:
        """Orders accepted and not finished, in arrival order."""
        return [w.order for works in self._working.values() for w in works]
