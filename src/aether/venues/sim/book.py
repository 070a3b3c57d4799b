"""The simulated broker's tick model: fills against an order book or against printed trades.

* **Book** (a snapshot of the best levels): a market order, a marketable limit and a
  triggered stop walk the opposite side level by level, taker, at each level's price, so
  size moves the price and nothing fills better than the touch. A resting limit fills only
  when the opposite touch crosses it. What the visible book cannot fill stays working for a
  limit, and expires for a market order or IOC. A post-only limit that would cross is
  cancelled. A limit that has rested and is later crossed by the book fills at its own
  price, maker, up to the quantity on the crossing levels. Stops trigger on the touch they
  would sell into (a sell stop when the best bid falls to its trigger) and trailing stops
  follow the best bid (their level rounded up to the tick, as in the bar model).
* **Trades**: a resting limit fills at its own price, maker, up to the printed quantity,
  when a trade prints at or through it (queue position is not modelled); a market order
  fills whole at the printed price; stops trigger and fill at the printed price, which is
  the trigger or worse.

Book levels and trade prices are the market's: fills use them exactly as printed, never
rounded to the instrument's tick (only the order's own limit price is on the grid).

Pure: no clock, no I/O; the caller applies fills, fees and balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aether.domain.events import BookLevel, BookSnapshot, Tick
from aether.domain.executions import Liquidity
from aether.domain.money import ZERO
from aether.domain.orders import OrderType, Side, TimeInForce
from aether.venues.sim.fills import WorkingOrder, trailing_stop_level

STOPS = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})


@dataclass(frozen=True, slots=True)
class BookMatch:
    """Fills as (price, quantity, liquidity), oldest first, and what happened to the rest."""

    fills: tuple[tuple[Decimal, Decimal, Liquidity], ...] = ()
    rejected: str | None = None
    expired: bool = False


NOTHING = BookMatch()


def _better_or_equal(side: Side, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _walk(
    levels: tuple[BookLevel, ...], quantity: Decimal, limit: Decimal | None, side: Side
) -> tuple[tuple[Decimal, Decimal, Liquidity], ...]:
    fills = []
    left = quantity
    for level in levels:
        if left <= ZERO or (limit is not None and not _better_or_equal(side, level.price, limit)):
            break
        taken = min(left, level.quantity)
        fills.append((level.price, taken, Liquidity.TAKER))
        left -= taken
    return tuple(fills)


def _triggered(work: WorkingOrder, kind: OrderType, side: Side, price: Decimal) -> bool:
    """Whether a stop or take-profit has fired at ``price`` (latching once it has)."""
    trigger = work.order.request.trigger_price
    assert trigger is not None
    if not work.triggered:
        falls = (side is Side.SELL) == (kind in STOPS)
        work.triggered = price <= trigger if falls else price >= trigger
    return work.triggered


def _trailing_fired(work: WorkingOrder, price: Decimal) -> bool:
    offset = work.order.request.trailing_offset
    assert offset is not None
    if work.extreme is None or price > work.extreme:
        work.extreme = price
        return False
    return price <= trailing_stop_level(work.extreme, offset, work.order.instrument)


def _limit_of(kind: OrderType, work: WorkingOrder) -> Decimal | None:
    return (
        work.order.request.price
        if kind
        in (
            OrderType.LIMIT,
            OrderType.STOP_LOSS_LIMIT,
            OrderType.TAKE_PROFIT_LIMIT,
        )
        else None
    )


def match_book(work: WorkingOrder, book: BookSnapshot) -> BookMatch:
    """What the visible book does to ``work`` now."""
    request = work.order.request
    kind, side = request.type, request.side
    levels = book.asks if side is Side.BUY else book.bids
    if not levels:
        return NOTHING
    touch_for_trigger = book.bids[0].price if side is Side.SELL and book.bids else levels[0].price
    if kind is OrderType.TRAILING_STOP:
        if side is not Side.SELL:
            return BookMatch(rejected="trailing stops protect long positions: sell only")
        if not _trailing_fired(work, touch_for_trigger):
            return NOTHING
    elif request.trigger_price is not None and not _triggered(work, kind, side, touch_for_trigger):
        return NOTHING
    limit = _limit_of(kind, work)
    crosses = limit is None or _better_or_equal(side, levels[0].price, limit)
    rested = work.rested
    if limit is not None:
        work.rested = True
    if not crosses:
        return BookMatch(expired=request.time_in_force is TimeInForce.IOC)
    if rested and limit is not None:
        # The book moved onto a resting limit: it was hit at its own price, as the maker.
        taken = _walk(levels, work.order.remaining, limit, side)
        quantity = sum((q for _, q, _ in taken), ZERO)
        return BookMatch(fills=((limit, quantity, Liquidity.MAKER),))
    if request.post_only:
        return BookMatch(rejected="post-only order would take liquidity")
    fills = _walk(levels, work.order.remaining, limit, side)
    filled = sum((q for _, q, _ in fills), ZERO)
    rest = filled < work.order.remaining
    gone = rest and (limit is None or request.time_in_force is TimeInForce.IOC)
    return BookMatch(fills=fills, expired=gone)


def match_trade(work: WorkingOrder, tick: Tick) -> BookMatch:
    """What one printed trade does to ``work``."""
    request = work.order.request
    kind, side, price = request.type, request.side, tick.price
    if kind is OrderType.MARKET:
        return BookMatch(fills=((price, work.order.remaining, Liquidity.TAKER),))
    if kind is OrderType.TRAILING_STOP:
        if side is not Side.SELL:
            return BookMatch(rejected="trailing stops protect long positions: sell only")
        if not _trailing_fired(work, price):
            return NOTHING
        return BookMatch(fills=((price, work.order.remaining, Liquidity.TAKER),))
    if request.trigger_price is not None:
        was_triggered = work.triggered
        if not _triggered(work, kind, side, price):
            return NOTHING
        if kind in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
            return BookMatch(fills=((price, work.order.remaining, Liquidity.TAKER),))
        if not was_triggered:
            return NOTHING  # the limit rests from the next trade on
    limit = request.price
    assert limit is not None
    if not _better_or_equal(side, price, limit):
        return BookMatch(expired=request.time_in_force is TimeInForce.IOC)
    quantity = min(work.order.remaining, tick.quantity)
    rest = quantity < work.order.remaining and request.time_in_force is TimeInForce.IOC
    return BookMatch(fills=((limit, quantity, Liquidity.MAKER),), expired=rest)
