"""Summary statistics of a backtest, from its equity curve and round trips (pure Python).

The curve is taken to start at the starting cash one bar before its first point, so the first
bar's return and a fall below the starting cash count. Undefined statistics are 0.0, never NaN
or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from operator import mul, sub, truediv

from aether.backtest.results import RoundTrip, Summary

SECONDS_PER_YEAR = 365.25 * 86_400
#: Spans shorter than this are not annualised: a few hours' return to the power of
#: thousands says nothing and overflows easily.
MIN_ANNUALISED_SPAN = 86_400
_NOISE = 1e-12


def summarize(
    *,
    starting_cash: Decimal,
    final_equity: Decimal,
    equity_ts: Sequence[int],
    equity: Sequence[float],
    round_trips: Sequence[RoundTrip],
    fees_paid: Decimal,
    in_position_bars: int,
    bars: int,
    interval: int,
) -> Summary:
    """The statistics of one run; ``equity_ts`` are the bars' close times, one per ``equity``.

    Sharpe and Sortino annualise per-bar simple returns with ``365.25 * 86400 / interval``
    periods a year, a zero risk-free rate and the sample (n - 1) deviation; Sortino's downside
    deviation is ``sqrt(sum(min(r, 0)^2) / (n - 1))``.
    """
    if len(equity_ts) != len(equity):
        raise ValueError(f"equity_ts has {len(equity_ts)} points but equity has {len(equity)}")
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval}")
    trades = len(round_trips)
    wins = sum(1 for trip in round_trips if trip.pnl > 0)
    total = float(final_equity / starting_cash) - 1.0 if starting_cash > 0 else 0.0
    span = equity_ts[-1] - equity_ts[0] + interval if equity_ts else 0
    curve = [float(starting_cash), *equity]
    returns = _returns(curve)
    sharpe, sortino = _ratios(returns, SECONDS_PER_YEAR / interval)
    return Summary(
        trades=trades,
        win_rate=wins / trades if trades else 0.0,
        total_return=total,
        annualised_return=_annualised(total, span),
        max_drawdown=_max_drawdown(curve),
        sharpe=sharpe,
        sortino=sortino,
        exposure_time=in_position_bars / bars if bars > 0 else 0.0,
        fees_paid=fees_paid,
        starting_cash=starting_cash,
        final_equity=final_equity,
    )


def _annualised(total: float, span: int) -> float:
    if span < MIN_ANNUALISED_SPAN:
        return 0.0
    growth = 1.0 + total
    if growth <= 0.0:
        return -1.0  # everything lost: no compounding brings it back
    try:
        value = math.exp(math.log(growth) * SECONDS_PER_YEAR / span) - 1.0
    except OverflowError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _returns(curve: list[float]) -> list[float]:
    """Simple returns bar over bar; a step from a non-positive equity has none."""
    previous = curve[:-1]
    changes = map(sub, curve[1:], previous)
    if not previous or min(previous) > 0.0:
        # map() over C functions keeps 500,000 points in a few tens of milliseconds.
        return list(map(truediv, changes, previous))
    return [change / prev for change, prev in zip(changes, previous, strict=True) if prev > 0.0]


def _ratios(returns: list[float], periods_per_year: float) -> tuple[float, float]:
    n = len(returns)
    if n < 2:
        return 0.0, 0.0
    # fsum for the mean: returns of both signs cancel. The squared terms below are all
    # positive, so a plain sum keeps its accuracy and is several times faster.
    mean = math.fsum(returns) / n
    # Deviations from the mean rather than sum-of-squares minus mean squared: per-bar returns
    # are tiny and that shortcut cancels most of their digits.
    deviations = [r - mean for r in returns]
    variance = sum(map(mul, deviations, deviations)) / (n - 1)
    losses = [r for r in returns if r < 0.0]
    downside = sum(map(mul, losses, losses)) / (n - 1)
    deviation = math.sqrt(variance)
    scale = math.sqrt(periods_per_year)
    # Equal returns leave only rounding noise in the deviation; dividing by it would report
    # an absurd ratio for what is really an undefined one.
    sharpe = mean / deviation * scale if deviation > _NOISE * abs(mean) else 0.0
    sortino = mean / math.sqrt(downside) * scale if downside > 0.0 else 0.0
    return _finite(sharpe), _finite(sortino)


def _max_drawdown(curve: list[float]) -> float:
    """Largest fall from a running peak as a fraction of that peak (0.0 without a positive one)."""
    if not curve or curve[0] <= 0.0:
        return 0.0
    peak = curve[0]  # positive, and it only rises, so the division below is safe
    worst = 1.0  # lowest equity / running peak seen so far
    for value in curve:
        if value >= peak:
            peak = value
        elif value / peak < worst:
            worst = value / peak
    return 1.0 - worst


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
