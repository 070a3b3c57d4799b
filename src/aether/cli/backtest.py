"""``aether backtest``: a strategy over history, with a summary, an HTML report and a CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aether.backtest.report import write_report
from aether.backtest.results import BacktestResult, RunSpec
from aether.backtest.runner import Backtest, run_backtest
from aether.backtest.trades_csv import write_trades_csv
from aether.cli.output import console, errors, fail
from aether.cli.times import epoch_seconds
from aether.domain.bars import Bar
from aether.domain.instruments import FeeSchedule, Instrument
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.strategy import Strategy
from aether.marketdata.history import HistoryFormatError, load_kraken_csv
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.pairs import spot_usd_pair
from aether.marketdata.shipped import shipped_data, shipped_files
from aether.risk.exits import Distance, ExitConfig
from aether.risk.sizing import Costs
from aether.strategies.catalogue import StrategyParamError, build_strategy
from aether.venues.sim_fills import Slippage

app = typer.Typer()  # registered at the top level of ``aether``

BPS = Decimal(10_000)


def _decimal(text: str, option: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: {text!r} is not a decimal number")
    if not value.is_finite() or value < 0 or (positive and value == 0):
        fail(f"{option}: {text!r} must be {'positive' if positive else 'zero or more'}")
    return value


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--param {item!r}: expected NAME=VALUE, e.g. --param fast=20")
        params[key.strip()] = value.strip()
    return params


def _instrument(pair: str) -> Instrument:
    try:
        return spot_usd_pair(pair)
    except ImportInputError as exc:
        fail(f"--pair {pair}: {exc}")


def _data_file(data: Path | None, pair: str) -> Path:
    if data is not None:
        if not data.is_file():
            fail(f"--data {data}: no such file")
        return data
    name = f"kraken_{pair.upper()}_60.csv"
    if name not in shipped_files():
        fail(f"--data is required for {pair}: the shipped history covers {shipped_files()}")
    return shipped_data(name)


def _exits(kind: str, stop: str, target: str, trailing: str | None) -> ExitConfig | None:
    if kind == "none":
        return None
    if kind not in ("percent", "atr"):
        fail(f"--exits {kind!r}: expected none, percent or atr")
    field = "percent" if kind == "percent" else "atr_multiple"

    def distance(text: str, option: str) -> Distance:
        return Distance(**{field: _decimal(text, option, positive=True)})

    trail = distance(trailing, "--trailing") if trailing is not None else None
    return ExitConfig(distance(stop, "--stop-loss"), distance(target, "--take-profit"), trail)


def _load(path: Path, pair: str, interval: int, start: int | None, end: int | None) -> list[Bar]:
    try:
        return load_kraken_csv(path, pair.upper(), interval, start=start, end=end)
    except HistoryFormatError as exc:
        fail(str(exc))


def backtest(
    strategy: Annotated[str, typer.Option(help="sma_cross or breakout.")] = "sma_cross",
    param: Annotated[
        list[str] | None, typer.Option(help="Strategy parameter NAME=VALUE; repeatable.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Kraken OHLCVT CSV; default: the shipped slice of --pair."),
    ] = None,
    pair: Annotated[
        str, typer.Option(help="Spot USD pair: XBTUSD, BTC/USD, XBT/USD or XXBTZUSD.")
    ] = "XBTUSD",
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
    out: Annotated[Path, typer.Option(help="Folder for the report and trades CSV.")] = Path(
        "backtests"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a strategy over history with the SimBroker; print a summary, write a report."""
    strategy_obj, values = _strategy(strategy, _params(param or []))
    instrument = _instrument(pair)
    path = _data_file(data, instrument.symbol)
    if interval < 1:
        fail(f"--interval {interval}: must be at least 1 minute")
    first, stop = epoch_seconds(start, "--start"), epoch_seconds(end, "--end")
    cash_value = _decimal(cash, "--cash", positive=True)
    fees = None
    if fee_bps is not None:
        rate = _decimal(fee_bps, "--fee-bps") / BPS
        if rate >= 1:
            fail(f"--fee-bps {fee_bps}: must be below 10000 (100 %)")
        fees = FeeSchedule.flat(rate, rate)
    taker = (fees or instrument.fees).tiers[0].taker
    slip = _decimal(slippage_bps, "--slippage-bps")
    if sizing not in ("volatility", "fixed"):
        fail(f"--sizing {sizing!r}: expected volatility or fixed")
    try:
        config = TradingConfig(
            sizing=SizingConfig(
                SizingMethod(sizing), _decimal(fraction, "--fraction"), _decimal(risk, "--risk")
            ),
            exits=_exits(exits, stop_loss, take_profit, trailing),
            costs=Costs(taker, slip),
        )
    except ValueError as exc:
        fail(str(exc))
    bars = _load(path, instrument.symbol, interval * 60, first, stop)
    if not bars:
        fail(f"{path}: no bars between --start and --end")
    spec = RunSpec(
        strategy=strategy,
        params={k: str(v) for k, v in values.items()},
        pair=instrument.symbol,
        data=str(path),
        interval=interval * 60,
        start=bars[0].start,
        end=bars[-1].end,
        cash=cash_value,
        fee=f"{fee_bps} bps maker and taker" if fee_bps is not None else "Kraken tiers (snapshot)",
        sizing=config.sizing.describe(),
        exits=_describe_exits(exits, stop_loss, take_profit, trailing),
    )
    job = Backtest(bars, instrument, strategy_obj, config, cash_value, spec, fees, Slippage(slip))
    result = _run(job, show=not as_json and errors.is_terminal)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{strategy}-{instrument.symbol}-{_day(spec.start)}-{_day(spec.end)}"
    report, trades = out / f"{stem}.html", out / f"{stem}-trades.csv"
    write_trades_csv(trades, result.round_trips)
    write_report(report, result)
    if as_json:
        typer.echo(json.dumps(_as_json(result, report, trades), indent=2))
    else:
        _print_summary(result, report, trades)


def _strategy(name: str, params: dict[str, str]) -> tuple[Strategy, dict[str, int]]:
    try:
        return build_strategy(name, params)
    except StrategyParamError as exc:
        fail(f"--strategy/--param: {exc}")


def _describe_exits(kind: str, stop: str, target: str, trailing: str | None) -> str:
    if kind == "none":
        return "none (signals only)"
    unit = " x ATR" if kind == "atr" else " of entry"
    text = f"stop-loss {stop}{unit}, take-profit {target}{unit}"
    return text + (f", trailing {trailing}{unit}" if trailing else "")


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%d")


def _run(job: Backtest, *, show: bool) -> BacktestResult:
    with Progress(
        TextColumn("[bold]backtest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not show,
    ) as progress:
        task = progress.add_task("bars", total=len(job.bars))
        try:
            result, _ = run_backtest(job, lambda done: progress.advance(task, done))
        except ValueError as exc:
            fail(str(exc))
    return result


def _as_json(result: BacktestResult, report: Path, trades: Path) -> dict[str, object]:
    s = result.summary
    return {
        "strategy": result.spec.strategy,
        "params": dict(result.spec.params),
        "pair": result.spec.pair,
        "bars": result.bars,
        "trades": s.trades,
        "win_rate": s.win_rate,
        "starting_cash": str(s.starting_cash),
        "final_equity": str(s.final_equity),
        "total_return": s.total_return,
        "annualised_return": s.annualised_return,
        "max_drawdown": s.max_drawdown,
        "sharpe": s.sharpe,
        "sortino": s.sortino,
        "exposure_time": s.exposure_time,
        "fees_paid": str(s.fees_paid),
        "report": str(report),
        "trades_csv": str(trades),
    }


def _print_summary(result: BacktestResult, report: Path, trades: Path) -> None:
    s, spec = result.summary, result.spec
    params = " ".join(f"{k}={v}" for k, v in spec.params.items())
    table = Table(title=f"{spec.strategy} {params} on {spec.pair}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("period", f"{_iso(spec.start)} to {_iso(spec.end)} ({result.bars} bars)"),
        ("trades", str(s.trades)),
        ("win rate", f"{s.win_rate:.1%}"),
        ("total return", f"{s.total_return:+.2%}"),
        ("annualised return", f"{s.annualised_return:+.2%}"),
        ("max drawdown", f"{s.max_drawdown:.2%}"),
        ("Sharpe", f"{s.sharpe:.2f}"),
        ("Sortino", f"{s.sortino:.2f}"),
        ("exposure time", f"{s.exposure_time:.1%}"),
        ("fees paid", f"{s.fees_paid:,.2f} USD"),
        ("final equity", f"{s.final_equity:,.2f} USD (from {s.starting_cash:,.2f})"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"report: {report}\ntrades: {trades}", highlight=False)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


app.command()(backtest)
