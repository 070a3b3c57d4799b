"""OHLCV bars: one interval of trading in one pair. Hours without trades have no bar."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    """``start`` is the bar's open time in UTC epoch seconds; ``interval`` is in seconds."""

    symbol: str
    start: int
    interval: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int

    @property
    def end(self) -> int:
        """The first second after the bar (the next bar's start when there is no gap)."""
        return self.start + self.interval
