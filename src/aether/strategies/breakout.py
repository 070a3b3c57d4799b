"""Channel breakout: buy a close above the highest high of the last ``entry`` bars, sell a
close below the lowest low of the last ``exit`` bars (a Donchian channel system)."""

from __future__ import annotations

from aether.domain.bars import Bar
from aether.engine.indicators import RollingExtremes
from aether.engine.strategy import Strategy, StrategyContext


class Breakout(Strategy):
    """The channels exclude the current bar, so a breakout is a close beyond the past range."""

    name = "breakout"

    def __init__(self, entry: int = 55, exit: int = 20) -> None:
        if entry < 2 or exit < 2:
            raise ValueError(f"breakout needs entry >= 2 and exit >= 2, got {entry} and {exit}")
        self.entry_period, self.exit_period = entry, exit
        self._entry = RollingExtremes(entry)
        self._exit = RollingExtremes(exit)

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        high, low, close = float(bar.high), float(bar.low), float(bar.close)
        entry, exit_ = self._entry, self._exit
        if entry.ready and close > entry.high:
            ctx.target_long(bar.symbol, "breakout")
        elif exit_.ready and close < exit_.low and ctx.position(bar.symbol) > 0:
            ctx.target_flat(bar.symbol, "breakdown")
        entry.update(high, low)
        exit_.update(high, low)
