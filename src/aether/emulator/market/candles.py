"""OHLC candles built from a pair's public trades, for Kraken's ``OHLC`` and ``Ticker``.

Each interval keeps its most recent candles (720 are served, as Kraken does; one-minute
candles keep a day and a minute more so the ticker's 24-hour figures can be summed). A candle
starts at a multiple of its interval in unix seconds. Exact Decimals throughout.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.money import ZERO
from aether.emulator.exchange.orders import PublicTrade

__all__ = ["INTERVALS", "MAX_ROWS", "Candle", "PairCandles", "Stats"]

#: Kraken's OHLC intervals in minutes.
INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
MAX_ROWS = 720
_DAY_MINUTES = 1441
NS = 1_000_000_000


@dataclass(slots=True)
class Candle:
    start: int  # unix seconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    notional: Decimal  # sum of price * volume: the vwap's numerator
    count: int

    @property
    def vwap(self) -> Decimal:
        return self.notional / self.volume if self.volume else self.close


@dataclass(frozen=True, slots=True)
class Stats:
    """One window of the ticker: volume, vwap, trade count, low, high (None: no trades)."""

    volume: Decimal
    vwap: Decimal | None
    count: int
    low: Decimal | None
    high: Decimal | None


class PairCandles:
    """Candles of one pair at every Kraken interval."""

    def __init__(self) -> None:
        self._series: dict[int, deque[Candle]] = {
            minutes: deque(maxlen=_DAY_MINUTES if minutes == 1 else MAX_ROWS + 1)
            for minutes in INTERVALS
        }

    def add(self, trade: PublicTrade) -> None:
        at = trade.time_ns // NS
        for minutes, series in self._series.items():
            start = at - at % (minutes * 60)
            last = series[-1] if series else None
            if last is not None and last.start == start:
                last.high = max(last.high, trade.price)
                last.low = min(last.low, trade.price)
                last.close = trade.price
                last.volume += trade.volume
                last.notional += trade.price * trade.volume
                last.count += 1
            elif last is None or start > last.start:
                series.append(
                    Candle(
                        start,
                        trade.price,
                        trade.price,
                        trade.price,
                        trade.price,
                        trade.volume,
                        trade.price * trade.volume,
                        1,
                    )
                )

    def rows(self, minutes: int, since: int | None = None) -> list[Candle]:
        """At most the 720 most recent candles of ``minutes`` starting after ``since``."""
        rows = list(self._series[minutes])[-MAX_ROWS:]
        if since is not None:
            rows = [c for c in rows if c.start > since]
        return rows

    def stats(self, from_s: int) -> Stats:
        """Volume, vwap, count, low and high of the one-minute candles from ``from_s``."""
        volume = notional = ZERO
        count = 0
        low: Decimal | None = None
        high: Decimal | None = None
        for candle in self._series[1]:
            if candle.start < from_s:
                continue
            volume += candle.volume
            notional += candle.notional
            count += candle.count
            low = candle.low if low is None else min(low, candle.low)
            high = candle.high if high is None else max(high, candle.high)
        return Stats(volume, notional / volume if volume else None, count, low, high)

    def first_open(self, from_s: int) -> Decimal | None:
        """The open of the first one-minute candle from ``from_s`` (today's opening price)."""
        for candle in self._series[1]:
            if candle.start >= from_s:
                return candle.open
        return None
