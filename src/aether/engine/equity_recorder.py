"""The equity curve a backtest reports: equity at each bar's close, and bars spent holding."""

from __future__ import annotations

from decimal import Decimal


class EquityRecorder:
    """One point per closed bar (UTC epoch seconds, USD as float: plotted, never booked).

    ``enabled=False`` keeps no curve (a long-running account); ``bars_in_position`` is
    counted either way.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.ts: list[int] = []
        self.values: list[float] = []
        self.bars_in_position = 0

    def on_bar(self, end: int, equity: Decimal, holding: bool) -> None:
        """Record the bar that closed at ``end``; ``holding``: a position was held at its close."""
        if holding:
            self.bars_in_position += 1
        if self.enabled:
            self.ts.append(end)
            self.values.append(float(equity))
