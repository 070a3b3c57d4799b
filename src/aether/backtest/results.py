"""What a backtest produces: its specification, round trips, fills, equity curve and summary.

Money stays ``Decimal``; the equity curve and the statistics are floats (they are only ever
plotted or compared, never booked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.executions import Fill


@dataclass(frozen=True, slots=True)
class RunSpec:
    """The inputs of one run, echoed in the report so a result can be reproduced."""

    strategy: str
    params: Mapping[str, str]
    pair: str
    data: str  # file path or "stored candles"
    interval: int  # seconds per bar
    start: int  # first bar's start, UTC epoch seconds
    end: int  # last bar's end, UTC epoch seconds
    cash: Decimal
    fee: str  # e.g. "26 bps taker / 16 bps maker" or "tier: starter"
    sizing: str  # e.g. "fixed fraction 1.0" or "volatility target 1% risk"
    exits: str  # e.g. "none" or "stop 5%, take-profit 10%"
    risk: str = "none"  # the risk limits, e.g. "account Company: max order 1000.00 USD, ..."


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One long trade from flat to flat; ``pnl`` is net of all fees of its fills."""

    symbol: str
    entry_ts: int  # UTC epoch seconds of the first entry fill
    exit_ts: int  # UTC epoch seconds of the fill that made the position flat
    quantity: Decimal  # total base quantity bought
    entry_price: Decimal  # volume-weighted average of the entry fills
    exit_price: Decimal  # volume-weighted average of the exit fills
    fees: Decimal  # USD
    pnl: Decimal  # USD, net of fees
    exit_reason: str  # the tag of the closing order: "signal", "stop_loss", ...

    @property
    def return_fraction(self) -> float:
        cost = self.quantity * self.entry_price
        return float(self.pnl / cost) if cost else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    trades: int  # closed round trips
    win_rate: float  # fraction of round trips with pnl > 0 (0.0 when there are none)
    total_return: float  # final_equity / starting cash - 1
    annualised_return: float  # compounded over the data's calendar span
    max_drawdown: float  # largest peak-to-trough fall of equity, as a positive fraction
    sharpe: float  # annualised, per-bar returns, zero risk-free rate
    sortino: float  # annualised, downside deviation of per-bar returns
    exposure_time: float  # fraction of bars with an open position
    fees_paid: Decimal  # USD
    starting_cash: Decimal
    final_equity: Decimal


@dataclass(frozen=True, slots=True)
class BacktestResult:
    spec: RunSpec
    summary: Summary
    round_trips: Sequence[RoundTrip]
    fills: Sequence[Fill]  # every execution, in order; fill.ts_ns is UTC epoch nanoseconds
    fill_reasons: Mapping[str, str]  # cl_ord_id -> the order's reason tag
    equity_ts: Sequence[int]  # UTC epoch seconds, one per bar (the bar's close time)
    equity: Sequence[float]  # USD, marked at each bar's close
    bars: int
