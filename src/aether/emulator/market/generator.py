"""The emulator's market generator: the types both generators share and the interface they meet.

Two generators produce the market the emulator's exchange prints: :mod:`.replay`
replays Kraken OHLCVT bars as trades, and :mod:`.synthetic` runs a seeded
regime-switching process. :mod:`.maker_book` builds the maker's order book around the current
price. Everything is pure and deterministic for a seed: time is passed in, never read from a
clock. Floats drive the random processes, but every price and quantity that leaves these
modules is a Decimal on the pair's grid (:class:`PairGrid`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Protocol

from aether.domain.orders import Side

__all__ = [
    "NS_PER_SECOND",
    "MarketConfigError",
    "MarketGenerator",
    "MarketStep",
    "PairGrid",
    "Regime",
    "SyntheticTrade",
]

NS_PER_SECOND = 1_000_000_000


class MarketConfigError(ValueError):
    """A generator setting that cannot work; ``field`` names it (``transitions[sideways]``)."""

    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


class Regime(StrEnum):
    """The true state of the synthetic market; declaration order is the transition order."""

    TRENDING_UP = "trending_up"
    TRENDING_DOWN = "trending_down"
    SIDEWAYS = "sideways"
    HIGH_VOLATILITY = "high_volatility"


@dataclass(frozen=True, slots=True)
class PairGrid:
    """A pair's price tick and quantity lot, as Kraken's AssetPairs gives them.

    ``lot_decimals`` is the number of decimals a quantity may have (8 for XBT/USD), so one
    lot is ``10 ** -lot_decimals``.
    """

    pair: str
    tick_size: Decimal
    lot_decimals: int

    def __post_init__(self) -> None:
        if not (self.tick_size.is_finite() and self.tick_size > 0):
            raise MarketConfigError("tick_size", f"must be positive, got {self.tick_size}")
        if self.lot_decimals < 0:
            raise MarketConfigError("lot_decimals", f"must be >= 0, got {self.lot_decimals}")

    @property
    def lot(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)

    def ticks(self, price: Decimal) -> int:
        """``price`` in whole ticks, rounded to the nearest (half to even)."""
        return int((price / self.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN))

    def price(self, ticks: int) -> Decimal:
        """The price of ``ticks`` whole ticks (exact: a Decimal product)."""
        return ticks * self.tick_size

    def float_price(self, value: float) -> Decimal:
        """A float price on the grid: nearest tick, never below one tick."""
        return max(1, round(value / float(self.tick_size))) * self.tick_size

    def lots(self, quantity: Decimal) -> int:
        """``quantity`` in whole lots, rounded down (a size is never made up)."""
        return int(quantity.scaleb(self.lot_decimals))

    def quantity(self, lots: int) -> Decimal:
        """The quantity of ``lots`` whole lots, written with exactly ``lot_decimals`` places."""
        return Decimal(lots).scaleb(-self.lot_decimals)

    def float_lots(self, value: float) -> int:
        """A float quantity in whole lots, rounded down but never below one lot."""
        if not math.isfinite(value):
            return 1
        return max(1, math.floor(value * 10.0**self.lot_decimals))


@dataclass(frozen=True, slots=True)
class SyntheticTrade:
    """One trade the generator prints; ``side`` is the taker's (buy lifts the ask)."""

    ts_ns: int
    price: Decimal
    qty: Decimal
    side: Side


@dataclass(frozen=True, slots=True)
class MarketStep:
    """One step of a generator, covering time from ``ts_ns`` until the next step's ``ts_ns``.

    ``trades`` are in time order with ``ts_ns <= trade.ts_ns`` and strictly increasing
    timestamps; ``last_price`` is the price at the end of the step (the last trade's price
    when there are trades). ``regime`` is the true regime of a synthetic step, None in replay.
    """

    ts_ns: int
    pair: str
    last_price: Decimal
    trades: tuple[SyntheticTrade, ...]
    regime: Regime | None


class MarketGenerator(Protocol):
    """What the exchange drives: a deterministic stream of steps from a start time.

    Each call to ``steps`` starts over from the generator's seed, so the same start gives
    the same stream. Timestamps are emulator time in nanoseconds; the caller schedules them.
    """

    @property
    def pair(self) -> str: ...

    def steps(self, start_ns: int) -> Iterator[MarketStep]: ...
