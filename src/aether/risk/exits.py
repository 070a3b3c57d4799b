"""Exits: stop-loss, take-profit and trailing-stop levels, checked on every price event.

Levels come from configuration as a fixed percentage of the entry or a multiple of the ATR
(average true range, in price units), rounded to the instrument's tick. Long positions only:
Aether trades spot, without leverage or shorting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, round_to_step


class ExitKind(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"


@dataclass(frozen=True, slots=True)
class Distance:
    """A distance from the entry: ``percent`` (0.02 = 2 %) or ``atr_multiple``, exactly one."""

    percent: Decimal | None = None
    atr_multiple: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.atr_multiple is None):
            raise ValueError("give exactly one of percent or atr_multiple")
        value = self.percent if self.percent is not None else self.atr_multiple
        assert value is not None
        if value <= ZERO:
            raise ValueError("an exit distance must be positive")

    def of(self, entry: Decimal, atr: Decimal | None) -> Decimal:
        if self.percent is not None:
            return entry * self.percent
        if atr is None or atr <= ZERO:
            raise ValueError("an ATR-based exit needs a positive ATR")
        assert self.atr_multiple is not None
        return atr * self.atr_multiple


@dataclass(frozen=True, slots=True)
class ExitConfig:
    stop_loss: Distance
    take_profit: Distance
    trailing: Distance | None = None


@dataclass(frozen=True, slots=True)
class ExitLevels:
    """The live exit prices of one long position; ``trailing`` ratchets up, never down."""

    stop_loss: Decimal
    take_profit: Decimal
    trailing: Decimal | None
    trail_distance: Decimal | None
    highest: Decimal


def _to_tick(value: Decimal, instrument: Instrument, up: bool) -> Decimal:
    return round_to_step(value, instrument.tick_size, ROUND_CEILING if up else ROUND_FLOOR)


def levels_for_entry(
    instrument: Instrument, config: ExitConfig, entry: Decimal, atr: Decimal | None = None
) -> ExitLevels:
    """Exit prices for a new long entry at ``entry``.

    The stop is rounded up and the take-profit down to the tick, so rounding never widens
    the risk or stretches the target. A stop at or below zero is refused.
    """
    stop = _to_tick(entry - config.stop_loss.of(entry, atr), instrument, up=True)
    target = _to_tick(entry + config.take_profit.of(entry, atr), instrument, up=False)
    if stop <= ZERO:
        raise ValueError(f"the stop-loss distance puts the stop at {stop} (entry {entry})")
    trail = config.trailing.of(entry, atr) if config.trailing is not None else None
    trailing = _to_tick(entry - trail, instrument, up=True) if trail is not None else None
    return ExitLevels(stop, target, trailing, trail, entry)


def on_price(
    instrument: Instrument, levels: ExitLevels, low: Decimal, high: Decimal
) -> tuple[ExitLevels, ExitKind | None]:
    """Check one price event (a tick: ``low == high``; a bar: its range).

    Returns the updated levels (trailing stop raised to follow a new high) and the exit that
    fired, if any. Within one bar the stop is assumed to come first: the cautious reading.
    """
    if low <= levels.stop_loss:
        return levels, ExitKind.STOP_LOSS
    if levels.trailing is not None and low <= levels.trailing:
        return levels, ExitKind.TRAILING_STOP
    if high >= levels.take_profit:
        return levels, ExitKind.TAKE_PROFIT
    if levels.trail_distance is not None and high > levels.highest:
        raised = _to_tick(high - levels.trail_distance, instrument, up=True)
        assert levels.trailing is not None
        return replace(levels, highest=high, trailing=max(levels.trailing, raised)), None
    return levels, None
