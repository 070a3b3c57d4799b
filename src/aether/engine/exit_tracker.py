"""Exit tracking: which pairs are held, the live exit levels of each, which are being sold.

The engine reports fills and sells to it and asks it on every price event whether an exit
fired; the levels themselves (stop-loss, take-profit, trailing stop) are
:mod:`aether.risk.exits`. A pair with a sell on its way fires no second exit. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.domain.orders import Side
from aether.risk.exits import ExitConfig, ExitKind, ExitLevels, levels_for_entry, on_price


class ExitTracker:
    """The exits of one account's long positions; ``config=None`` sets no exit levels."""

    def __init__(self, instruments: Mapping[str, Instrument], config: ExitConfig | None) -> None:
        self._instruments = instruments
        self._config = config
        self.levels: dict[str, ExitLevels] = {}  # per held pair, set by its first entry fill
        # Plain sets, read directly on the engine's per-bar path.
        self.holding: set[str] = set()  # pairs with a position, kept by fills
        self.exiting: set[str] = set()  # pairs with a sell open

    def on_fill(self, fill: Fill, position: Decimal, atr: Decimal | None) -> None:
        """Follow a booked fill; ``position`` is the base quantity held after it, ``atr``
        (for a buy) the one ATR-based levels are set from."""
        symbol = fill.symbol
        if position <= ZERO:
            self.holding.discard(symbol)
            self.levels.pop(symbol, None)
        else:
            self.holding.add(symbol)
        if fill.side is Side.BUY and symbol not in self.levels and self._config is not None:
            self.levels[symbol] = levels_for_entry(
                self._instruments[symbol], self._config, fill.price, atr
            )

    def on_price(self, symbol: str, low: Decimal, high: Decimal) -> ExitKind | None:
        """Update the levels of held ``symbol`` from a price range (a tick: ``low == high``);
        the exit that fired, unless a sell is already on its way."""
        levels, fired = on_price(self._instruments[symbol], self.levels[symbol], low, high)
        self.levels[symbol] = levels
        if fired is not None and symbol not in self.exiting:
            return fired
        return None

    def sell_sent(self, symbol: str) -> None:
        self.exiting.add(symbol)

    def sell_ended(self, symbol: str) -> None:
        self.exiting.discard(symbol)
