"""``aether backtest``: a strategy over history, with a summary, an HTML report and a CSV.

This module holds the command and its options only, so ``aether backtest --help`` answers
quickly: the options become a job in ``backtest_job`` and run in ``backtest_output``, both
imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()  # registered at the top level of ``aether``

# Explicit options win over the account's configuration.
STRATEGY_HELP = (
    "sma_cross or breakout; default: --account's strategy and parameters, else sma_cross. "
    "Given, it replaces the account's."
)
PARAM_HELP = (
    "Strategy parameter NAME=VALUE, over the account's if it gives the strategy; repeatable."
)
PAIR_HELP = (
    "Spot USD pair: XBTUSD, BTC/USD, XBT/USD or XXBTZUSD; default: the first pair of "
    "--account's strategy when it gives the strategy, else XBTUSD."
)
ACCOUNT_HELP = (
    "Run under this account's configuration, read from the database: its risk limits, "
    "trading state (HALTED places no order, REDUCING only reduces) and, without --strategy, "
    "its strategy. An account without a strategy needs --strategy."
)


def backtest(
    strategy: Annotated[str | None, typer.Option(help=STRATEGY_HELP)] = None,
    param: Annotated[list[str] | None, typer.Option(help=PARAM_HELP)] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Kraken OHLCVT CSV; default: the shipped slice of --pair."),
    ] = None,
    pair: Annotated[str | None, typer.Option(help=PAIR_HELP)] = None,
    interval: Annotated[int, typer.Option(help="Bar length of --data in minutes.")] = 60,
    start: Annotated[str | None, typer.Option(help="First day (UTC), YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Stop before this day (UTC).")] = None,
    cash: Annotated[str, typer.Option(help="Starting balance in USD.")] = "10000",
    fee_bps: Annotated[
        str | None,
        typer.Option(help="Flat fee for maker and taker, in bps; default: Kraken's tiers."),
    ] = None,
    slippage_bps: Annotated[str, typer.Option(help="Adverse slippage on taker fills.")] = "0",
    sizing: Annotated[str, typer.Option(help="volatility or fixed.")] = "volatility",
    fraction: Annotated[str, typer.Option(help="Fixed sizing: share of cash (1.0 = all).")] = "1",
    risk: Annotated[
        str, typer.Option(help="Volatility sizing: equity at risk per trade.")
    ] = "0.01",
    exits: Annotated[str, typer.Option(help="percent, atr or none (signals only).")] = "percent",
    stop_loss: Annotated[
        str, typer.Option(help="Stop distance: fraction or ATR multiple.")
    ] = "0.05",
    take_profit: Annotated[str, typer.Option(help="Target distance, same unit.")] = "0.10",
    trailing: Annotated[str | None, typer.Option(help="Trailing stop distance.")] = None,
    account: Annotated[str | None, typer.Option(help=ACCOUNT_HELP)] = None,
    out: Annotated[Path, typer.Option(help="Folder for the report and trades CSV.")] = Path(
        "backtests"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a strategy over history with the SimBroker; print a summary, write a report."""
    # Imported here: the engine, the runner and the history loaders take most of a second to
    # import, which `aether backtest --help` must not pay.
    from aether.cli.backtest_job import BacktestOptions, build_job
    from aether.cli.backtest_output import run_and_report

    options = BacktestOptions(
        strategy=strategy,
        params=param or [],
        data=data,
        pair=pair,
        interval=interval,
        start=start,
        end=end,
        cash=cash,
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
        sizing=sizing,
        fraction=fraction,
        risk=risk,
        exits=exits,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing=trailing,
        account=account,
    )
    run_and_report(build_job(options), out, as_json=as_json)


app.command()(backtest)
