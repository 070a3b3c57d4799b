"""Streaming indicators over floats: O(1) per update, no history kept beyond the window.

Floats are right here: indicators are signals, never money.
"""

from __future__ import annotations

from collections import deque


class RollingMean:
    """Mean of the last ``period`` values; ``value`` is None until the window is full."""

    __slots__ = ("_count", "_sum", "_window", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError("period must be at least 1")
        self.period = period
        self._window: deque[float] = deque()
        self._sum = 0.0
        self._count = 0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        window = self._window
        window.append(x)
        self._sum += x
        if len(window) > self.period:
            self._sum -= window.popleft()
        self._count += 1
        if not self._count & 4095:
            # Re-sum now and then so rounding drift in the running sum cannot accumulate.
            self._sum = sum(window)
        if len(window) == self.period:
            self.value = self._sum / self.period
        return self.value


class RollingExtremes:
    """Highest high and lowest low of the last ``period`` bars (monotonic deques)."""

    __slots__ = ("_highs", "_lows", "_n", "period")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError("period must be at least 1")
        self.period = period
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()
        self._n = 0

    def update(self, high: float, low: float) -> None:
        n = self._n
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((n, high))
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((n, low))
        oldest = n - self.period
        if highs[0][0] <= oldest:
            highs.popleft()
        if lows[0][0] <= oldest:
            lows.popleft()
        self._n = n + 1

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    @property
    def high(self) -> float:
        return self._highs[0][1]

    @property
    def low(self) -> float:
        return self._lows[0][1]


class AverageTrueRange:
    """Wilder's ATR; ``value`` is None until ``period`` bars have been seen."""

    __slots__ = ("_count", "_prev_close", "_sum", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError("period must be at least 1")
        self.period = period
        self._prev_close: float | None = None
        self._count = 0
        self._sum = 0.0
        self.value: float | None = None

    def update(self, high: float, low: float, close: float) -> float | None:
        prev = self._prev_close
        tr = high - low if prev is None else max(high, prev) - min(low, prev)
        self._prev_close = close
        if self.value is None:
            self._count += 1
            self._sum += tr
            if self._count == self.period:
                self.value = self._sum / self.period
        else:
            self.value += (tr - self.value) / self.period
        return self.value
