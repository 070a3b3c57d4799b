"""The backtest runner: history -> the engine with the SimBroker -> a BacktestResult.

This is the backtest mode of the one engine: the same strategy, sizing, risk, exits and
portfolio code as paper and live, fed bars in time order with the SimBroker as the venue.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.backtest.metrics import summarize
from aether.backtest.results import BacktestResult, RunSpec
from aether.backtest.round_trips import round_trips
from aether.domain.accounts import TradingState
from aether.domain.bars import Bar
from aether.domain.instruments import FeeSchedule, Instrument
from aether.engine.config import TradingConfig
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.engine.strategy import Strategy
from aether.venues.sim.broker import NO_SLIPPAGE, SimBroker
from aether.venues.sim.fills import Slippage

CHUNK = 4096  # bars between progress reports: often enough to watch, rare enough to be free


@dataclass(frozen=True, slots=True)
class Backtest:
    """One run's inputs; ``fees`` replaces the instrument's tiered schedule when given, and
    the engine starts in ``trading_state`` (an account's: HALTED places no strategy order,
    REDUCING only reduces)."""

    bars: Sequence[Bar]
    instrument: Instrument
    strategy: Strategy
    config: TradingConfig
    cash: Decimal
    spec: RunSpec
    fees: FeeSchedule | None = None
    slippage: Slippage = NO_SLIPPAGE
    trading_state: TradingState = TradingState.ACTIVE


def run_backtest(
    backtest: Backtest, progress: Callable[[int], None] | None = None
) -> tuple[BacktestResult, Engine]:
    """Run it; ``progress`` is called with the number of bars done since the last call."""
    bars = backtest.bars
    if not bars:
        raise ValueError("no bars to test: the data and date range select nothing")
    instrument = backtest.instrument
    instruments = {instrument.symbol: instrument}
    venue = SimBroker(
        instruments,
        {instrument.quote: backtest.cash},
        slippage=backtest.slippage,
        fees=backtest.fees,
    )
    engine = Engine(
        instruments=instruments,
        portfolio=Portfolio(instruments, backtest.cash, instrument.quote),
        venue=venue,
        strategy=backtest.strategy,
        config=backtest.config,
    )
    engine.set_trading_state(backtest.trading_state)
    # The bars live through the whole run; frozen, the cyclic collector stops rescanning them
    # on every full collection (which made long series cost more per bar).
    gc.freeze()
    try:
        for begin in range(0, len(bars), CHUNK):
            chunk = bars[begin : begin + CHUNK]
            engine.run(chunk, market=venue)
            if progress is not None:
                progress(len(chunk))
    finally:
        gc.unfreeze()
    return result_of(engine, backtest), engine


def result_of(engine: Engine, backtest: Backtest) -> BacktestResult:
    """What the finished run produced, with its statistics."""
    reasons = {cl: order.request.tags.reason for cl, order in engine.ledger.orders.items()}
    trips = round_trips(engine.ledger.fills, reasons, engine.instruments)
    portfolio = engine.portfolio
    final = portfolio.equity()
    summary = summarize(
        starting_cash=backtest.cash,
        final_equity=final,
        equity_ts=engine.recorder.ts,
        equity=engine.recorder.values,
        round_trips=trips,
        fees_paid=portfolio.fees_paid_usd,
        in_position_bars=engine.recorder.bars_in_position,
        bars=len(backtest.bars),
        interval=backtest.bars[0].interval,
    )
    return BacktestResult(
        spec=backtest.spec,
        summary=summary,
        round_trips=trips,
        fills=tuple(engine.ledger.fills),
        fill_reasons=reasons,
        equity_ts=engine.recorder.ts,
        equity=engine.recorder.values,
        bars=len(backtest.bars),
    )
