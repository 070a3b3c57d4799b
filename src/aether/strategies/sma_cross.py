"""SMA crossover: long while the fast moving average of closes is above the slow one."""

from __future__ import annotations

from aether.domain.bars import Bar
from aether.engine.indicators import RollingMean
from aether.engine.strategy import Strategy, StrategyContext


class SmaCross(Strategy):
    """Enter when ``fast`` crosses above ``slow``; leave when it crosses back below.

    Acts on crossings only (not on the state), so an exit by stop-loss is not re-entered until
    the next upward crossing.
    """

    name = "sma_cross"

    def __init__(self, fast: int = 20, slow: int = 50) -> None:
        if not 1 <= fast < slow:
            raise ValueError(f"sma_cross needs 1 <= fast < slow, got fast={fast} slow={slow}")
        self.fast_period, self.slow_period = fast, slow
        self._fast = RollingMean(fast)
        self._slow = RollingMean(slow)
        self._above: bool | None = None

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        close = float(bar.close)
        fast = self._fast.update(close)
        slow = self._slow.update(close)
        if slow is None or fast is None:
            return
        above = fast > slow
        was = self._above
        self._above = above
        if was is None or above == was:
            return
        if above:
            ctx.target_long(bar.symbol, "signal")
        else:
            ctx.target_flat(bar.symbol, "signal")
