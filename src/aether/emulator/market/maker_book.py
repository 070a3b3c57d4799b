"""The market maker's book around the current price, and how it moves when the price does.

:func:`book_levels` builds the book the maker should show at a mid price; :func:`book_diff`
(or :func:`move_book`) says which resting levels to cancel and which to post to get from the
current book to that target without rebuilding all of it. Apply the cancels before the adds:
the result has exactly the target's prices, so it never crosses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from aether.domain.events import BookLevel
from aether.domain.orders import Side
from aether.emulator.market.generator import MarketConfigError, PairGrid

__all__ = [
    "Book",
    "BookDiff",
    "DepthProfile",
    "Levels",
    "Quote",
    "apply_book_diff",
    "book_diff",
    "book_levels",
    "move_book",
]

Levels = tuple[BookLevel, ...]
Book = tuple[Levels, Levels]
"""``(bids, asks)``: bids best (highest) first, asks best (lowest) first."""

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DepthProfile:
    """The shape of the maker's book.

    Levels rest on a fixed ladder of prices that are multiples of ``step_ticks`` ticks, one
    rung apart, so a small move of the mid leaves the book where it is. Level ``i`` (0 is the
    best) holds ``base_qty * growth ** i`` times a seeded factor in ``[1, 1 + jitter)``,
    rounded down to the lot but never below one lot or the level inside it: sizes never
    shrink with distance, and grow when ``growth > 1``.
    """

    base_qty: Decimal
    growth: Decimal = Decimal("1.25")
    step_ticks: int = 1
    jitter: Decimal = _ZERO

    def __post_init__(self) -> None:
        if not (self.base_qty.is_finite() and self.base_qty > 0):
            raise MarketConfigError("base_qty", f"must be positive, got {self.base_qty}")
        if not (self.growth.is_finite() and self.growth >= 1):
            raise MarketConfigError("growth", f"must be >= 1, got {self.growth}")
        if self.step_ticks < 1:
            raise MarketConfigError("step_ticks", f"must be >= 1, got {self.step_ticks}")
        if not (self.jitter.is_finite() and self.jitter >= 0):
            raise MarketConfigError("jitter", f"must not be negative, got {self.jitter}")


def _ticks(value: Decimal, tick: Decimal, rounding: str) -> int:
    return int((value / tick).to_integral_value(rounding=rounding))


def book_levels(
    mid: Decimal,
    spread_bps: Decimal,
    levels: int,
    profile: DepthProfile,
    grid: PairGrid,
    *,
    seed: int = 0,
) -> Book:
    """The maker's ``(bids, asks)`` around ``mid``, ``levels`` deep on each side.

    The best bid is the highest rung at or below ``mid * (1 - spread_bps / 20000)`` and the
    best ask the lowest rung at or above ``mid * (1 + spread_bps / 20000)``, a rung further
    out if that would touch ``mid``: every bid is strictly below ``mid`` and every ask
    strictly above. Bids that would fall to zero or below are left out. Sizes depend on the
    seed and the level only.
    """
    if not (mid.is_finite() and mid > 0):
        raise MarketConfigError("mid", f"must be positive, got {mid}")
    if not (spread_bps.is_finite() and spread_bps >= 0):
        raise MarketConfigError("spread_bps", f"must not be negative, got {spread_bps}")
    if levels < 1:
        raise MarketConfigError("levels", f"must be >= 1, got {levels}")
    tick, rung = grid.tick_size, profile.step_ticks
    half = mid * spread_bps / 20000
    # In ticks: the best bid and ask before snapping to the ladder, strictly off the mid.
    bid = min(_ticks(mid - half, tick, ROUND_FLOOR), _ticks(mid, tick, ROUND_CEILING) - 1)
    ask = max(_ticks(mid + half, tick, ROUND_CEILING), _ticks(mid, tick, ROUND_FLOOR) + 1)
    bid = bid // rung * rung
    ask = -(-ask // rung) * rung
    # A reproducible simulation, not a secret: a seeded Mersenne Twister is what is wanted.
    rng = random.Random(seed)  # noqa: S311
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    bid_lots = ask_lots = 0
    for i in range(levels):
        size = profile.base_qty * profile.growth**i
        # Both draws happen on every level, so a dropped bid does not shift the ask sizes.
        bid_jitter, ask_jitter = rng.random(), rng.random()
        bid_lots = max(bid_lots, _lots(size, profile.jitter, bid_jitter, grid))
        ask_lots = max(ask_lots, _lots(size, profile.jitter, ask_jitter, grid))
        if bid > 0:
            bids.append(BookLevel(grid.price(bid), grid.quantity(bid_lots)))
        asks.append(BookLevel(grid.price(ask), grid.quantity(ask_lots)))
        bid, ask = bid - rung, ask + rung
    return tuple(bids), tuple(asks)


def _lots(size: Decimal, jitter: Decimal, draw: float, grid: PairGrid) -> int:
    return max(1, grid.lots(size * (1 + jitter * Decimal(draw))))


@dataclass(frozen=True, slots=True)
class Quote:
    """One resting level of the maker's, on one side."""

    side: Side
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class BookDiff:
    """Levels to cancel, then levels to post; empty when the book can stay as it is."""

    cancel: tuple[Quote, ...]
    add: tuple[Quote, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.cancel or self.add)


def book_diff(current: Book, target: Book, *, size_tolerance: Decimal = _ZERO) -> BookDiff:
    """What to cancel and post to turn ``current`` into ``target``.

    A resting level stays when the target has a level on the same side at the same price and
    the resting size is within ``size_tolerance`` (a fraction: 0.2 is 20 %) of the target's;
    every other resting level is cancelled and every target price left uncovered is posted.
    """
    if not (size_tolerance.is_finite() and size_tolerance >= 0):
        raise MarketConfigError("size_tolerance", f"must not be negative, got {size_tolerance}")
    cancel: list[Quote] = []
    add: list[Quote] = []
    for side, resting, wanted in (
        (Side.BUY, current[0], target[0]),
        (Side.SELL, current[1], target[1]),
    ):
        goal = {level.price: level.quantity for level in wanted}
        kept: set[Decimal] = set()
        for level in resting:
            qty = goal.get(level.price)
            close = qty is not None and abs(level.quantity - qty) <= size_tolerance * qty
            if close and level.price not in kept:
                kept.add(level.price)
            else:
                cancel.append(Quote(side, level.price, level.quantity))
        add.extend(Quote(side, p, q) for p, q in goal.items() if p not in kept)
    return BookDiff(tuple(cancel), tuple(add))


def apply_book_diff(current: Book, diff: BookDiff) -> Book:
    """``current`` with ``diff``'s cancels taken out and its adds posted, sorted best first.

    Raises ValueError when a cancel names a level the book does not hold.
    """
    sides = {Side.BUY: list(current[0]), Side.SELL: list(current[1])}
    for quote in diff.cancel:
        level = BookLevel(quote.price, quote.qty)
        if level not in sides[quote.side]:
            raise ValueError(f"cannot cancel {quote}: the book holds no such level")
        sides[quote.side].remove(level)
    for quote in diff.add:
        sides[quote.side].append(BookLevel(quote.price, quote.qty))
    bids = sorted(sides[Side.BUY], key=lambda level: level.price, reverse=True)
    asks = sorted(sides[Side.SELL], key=lambda level: level.price)
    return tuple(bids), tuple(asks)


def move_book(
    current: Book,
    mid: Decimal,
    spread_bps: Decimal,
    levels: int,
    profile: DepthProfile,
    grid: PairGrid,
    *,
    seed: int = 0,
    size_tolerance: Decimal = _ZERO,
) -> BookDiff:
    """The changes that bring ``current`` to :func:`book_levels` at the new ``mid``."""
    target = book_levels(mid, spread_bps, levels, profile, grid, seed=seed)
    return book_diff(current, target, size_tolerance=size_tolerance)
