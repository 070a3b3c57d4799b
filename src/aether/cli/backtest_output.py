"""``aether backtest``'s run and its results: a progress bar while it runs, then the HTML
report and trades CSV on disk and a summary table (or one JSON object) on the console.

Imported only when the command runs: it brings the backtest runner and the report writer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aether.backtest.report import write_report
from aether.backtest.results import BacktestResult
from aether.backtest.runner import Backtest, run_backtest
from aether.backtest.trades_csv import write_trades_csv
from aether.cli.output import console, errors, fail


def run_and_report(job: Backtest, out: Path, *, as_json: bool) -> None:
    """Run ``job`` (a progress bar on a terminal), write its report and trades CSV into
    ``out``, and print the summary: a table, or one JSON object with ``as_json``."""
    result = _run(job, show=not as_json and errors.is_terminal)
    out.mkdir(parents=True, exist_ok=True)
    spec = job.spec
    stem = f"{spec.strategy}-{spec.pair}-{_day(spec.start)}-{_day(spec.end)}"
    report, trades = out / f"{stem}.html", out / f"{stem}-trades.csv"
    write_trades_csv(trades, result.round_trips)
    write_report(report, result)
    if as_json:
        typer.echo(json.dumps(_as_json(result, report, trades), indent=2))
    else:
        _print_summary(result, report, trades)


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
