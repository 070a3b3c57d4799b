"""The simulated broker's bar model: when and at what price a working order fills on a bar.

The model, bar by bar (an order decided on a bar's close works from the next bar on):

* **market**: fills at the bar's open, taker.
* **limit**: marketable at the open (a buy with open <= limit) fills at the open, taker;
  otherwise it fills at its limit, maker, if the bar trades through it (low <= limit for a
  buy). Never better than the limit once resting: queue position is not modelled, and the
  touch is the best price. A post-only limit marketable at the open is rejected.
* **stop-loss / take-profit** (triggered market orders): a sell stop triggers when
  low <= trigger, a sell take-profit when high >= trigger (mirror for buys); the fill is at
  the trigger, or at the open when the bar gapped through it. Taker.
* **stop-loss-limit / take-profit-limit**: triggered as above, then a limit at ``price``; it
  fills on the triggering bar only if marketable at the trigger price, else rests as a limit.
* **trailing-stop** (sell): the stop is the highest price seen since placement (starting at
  the first working bar's open) minus the offset, rounded up to the tick;
  it is checked before this bar's high raises it (the cautious reading of an unknown path).
* **IOC**: only what fills at the open; the rest expires.

Prices the market printed (the open, a gap through a trigger) are used exactly as printed,
however many decimals history gave them: today's tick size is not theirs. Only prices the
platform sets are on the tick grid: limit and trigger prices (checked when the order is made),
trailing stop levels (rounded up, as the engine's exits round theirs) and slippage.
Adverse slippage (``bps``) applies to taker fills; the adjusted price is rounded to the tick
against the trader.
An optional participation cap limits a fill to a fraction of the bar's volume (the rest stays
working). Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from aether.domain.bars import Bar
from aether.domain.executions import Liquidity
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, floor_to_step, round_to_step
from aether.domain.orders import Order, OrderType, Side, TimeInForce

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Slippage:
    bps: Decimal = ZERO

    def apply(self, price: Decimal, side: Side, instrument: Instrument) -> Decimal:
        """``price`` moved against a taker by ``bps`` and rounded to the tick, also against.

        Without slippage ``price`` is returned unchanged: it is the market's, not ours to round.
        """
        if not self.bps:
            return price
        if side is Side.BUY:
            return round_to_step(price * (1 + self.bps / BPS), instrument.tick_size, ROUND_CEILING)
        return round_to_step(price * (1 - self.bps / BPS), instrument.tick_size, ROUND_FLOOR)


def trailing_stop_level(extreme: Decimal, offset: Decimal, instrument: Instrument) -> Decimal:
    """The stop of a sell trailing stop: ``extreme - offset``, rounded up to the tick.

    The level is a price the platform sets, so it is on the grid even when ``extreme`` (a
    printed price) is not; up, so that rounding never widens the stop.
    """
    return round_to_step(extreme - offset, instrument.tick_size, ROUND_CEILING)


@dataclass(slots=True)
class WorkingOrder:
    """An order at the simulated venue, with the state the bar model needs between bars."""

    order: Order
    triggered: bool = False
    extreme: Decimal | None = None  # trailing stop: highest high seen since placement
    rested: bool = False  # book model: a limit that has rested is the maker when crossed


@dataclass(frozen=True, slots=True)
class BarMatch:
    """What one bar did to a working order (all None/False: nothing happened)."""

    price: Decimal | None = None
    quantity: Decimal = ZERO
    liquidity: Liquidity | None = None
    rejected: str | None = None
    expired: bool = False


NOTHING = BarMatch()


def _crossed_at_open(side: Side, limit: Decimal, open_: Decimal) -> bool:
    return open_ <= limit if side is Side.BUY else open_ >= limit


def _traded_through(side: Side, limit: Decimal, bar: Bar) -> bool:
    return bar.low <= limit if side is Side.BUY else bar.high >= limit


def _trigger_hit(kind: OrderType, side: Side, trigger: Decimal, bar: Bar) -> bool:
    stop = kind in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    # A sell stop fires on a fall, a sell take-profit on a rise; buys mirror them.
    falls = (side is Side.SELL) == stop
    return bar.low <= trigger if falls else bar.high >= trigger


def _gap_price(side: Side, kind: OrderType, trigger: Decimal, open_: Decimal) -> Decimal:
    """The trigger, or the open when the bar opened beyond it."""
    stop = kind in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    falls = (side is Side.SELL) == stop
    return min(open_, trigger) if falls else max(open_, trigger)


class BarMatcher:
    """Applies the bar model for one instrument with one slippage and participation setting."""

    def __init__(
        self, instrument: Instrument, slippage: Slippage, participation: Decimal | None = None
    ) -> None:
        if participation is not None and not ZERO < participation <= 1:
            raise ValueError("participation must be in (0, 1]")
        self.instrument = instrument
        self.slippage = slippage
        self.participation = participation

    def _quantity(self, work: WorkingOrder, bar: Bar) -> Decimal:
        remaining = work.order.remaining
        if self.participation is None:
            return remaining
        cap = floor_to_step(bar.volume * self.participation, self.instrument.lot_size)
        return min(remaining, cap)

    def _fill(self, work: WorkingOrder, bar: Bar, price: Decimal, liquidity: Liquidity) -> BarMatch:
        side = work.order.request.side
        if liquidity is Liquidity.TAKER:
            price = self.slippage.apply(price, side, self.instrument)
        quantity = self._quantity(work, bar)
        if quantity <= ZERO:
            return NOTHING
        return BarMatch(price=price, quantity=quantity, liquidity=liquidity)

    def match(self, work: WorkingOrder, bar: Bar) -> BarMatch:
        """What ``bar`` does to ``work`` (updates trigger and trailing state in place)."""
        request = work.order.request
        kind, side = request.type, request.side
        ioc = request.time_in_force is TimeInForce.IOC
        result = self._match(work, bar, kind, side)
        if ioc and (result.price is None or result.quantity < work.order.remaining):
            # Immediate-or-cancel: what did not fill at once is gone.
            return BarMatch(result.price, result.quantity, result.liquidity, result.rejected, True)
        return result

    def _match(self, work: WorkingOrder, bar: Bar, kind: OrderType, side: Side) -> BarMatch:
        request = work.order.request
        if kind is OrderType.MARKET:
            return self._fill(work, bar, bar.open, Liquidity.TAKER)
        if kind is OrderType.LIMIT:
            assert request.price is not None
            return self._limit(work, bar, request.price, at=bar.open)
        if kind is OrderType.TRAILING_STOP:
            return self._trailing(work, bar)
        assert request.trigger_price is not None
        if not work.triggered:
            if not _trigger_hit(kind, side, request.trigger_price, bar):
                return NOTHING
            work.triggered = True
            at = _gap_price(side, kind, request.trigger_price, bar.open)
            if kind in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
                return self._fill(work, bar, at, Liquidity.TAKER)
            assert request.price is not None
            if _crossed_at_open(side, request.price, at):
                return self._fill(work, bar, at, Liquidity.TAKER)
            return NOTHING  # rests as a limit from the next bar on
        assert request.price is not None
        return self._limit(work, bar, request.price, at=bar.open)

    def _limit(self, work: WorkingOrder, bar: Bar, limit: Decimal, at: Decimal) -> BarMatch:
        request = work.order.request
        if _crossed_at_open(request.side, limit, at):
            if request.post_only:
                return BarMatch(rejected="post-only order would take liquidity")
            return self._fill(work, bar, at, Liquidity.TAKER)
        if request.time_in_force is not TimeInForce.IOC and _traded_through(
            request.side, limit, bar
        ):
            return self._fill(work, bar, limit, Liquidity.MAKER)
        return NOTHING

    def _trailing(self, work: WorkingOrder, bar: Bar) -> BarMatch:
        request = work.order.request
        assert request.trailing_offset is not None
        if request.side is not Side.SELL:
            return BarMatch(rejected="trailing stops protect long positions: sell only")
        if work.extreme is None:
            work.extreme = bar.open
        stop = trailing_stop_level(work.extreme, request.trailing_offset, self.instrument)
        if bar.low <= stop:
            return self._fill(work, bar, min(bar.open, stop), Liquidity.TAKER)
        work.extreme = max(work.extreme, bar.high)
        return NOTHING
