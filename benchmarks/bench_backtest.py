"""Backtest throughput: the SMA 20/50 strategy over Kraken's XBTUSD hourly history; a table.

    .venv/bin/python benchmarks/bench_backtest.py [--data FILE] [--repeat 3]

Rows: the engine alone (orders, pre-trade risk, SimBroker and portfolio accounting included;
loading the CSV and writing the report excluded) over the file's bars and over a 10x longer
series (the file repeated, shifted in time, so the strategy trades it the same way), and the
whole ``aether backtest`` command as a user runs it. Every measurement runs in a fresh
process so peak memory (max RSS) is its own; the best of ``--repeat`` runs is reported.
Defaults: fixed sizing with all cash, no exits, 26 bps fees (the comparison setting).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "kraken_XBTUSD_60.csv"
COMMAND = [
    "--strategy", "sma_cross", "--param", "fast=20", "--param", "slow=50",
    "--sizing", "fixed", "--fraction", "1", "--exits", "none", "--fee-bps", "26",
]  # fmt: skip


def _engine_only(data: Path, copies: int) -> dict[str, float]:
    """Runs inside a child process: load, then time the engine alone."""
    from aether.backtest.results import RunSpec
    from aether.backtest.runner import Backtest, run_backtest
    from aether.domain.instruments import FeeSchedule
    from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
    from aether.risk.sizing import Costs
    from aether.strategies.sma_cross import SmaCross
    from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
    from aether.venues.kraken.ohlcvt_csv import load_kraken_csv

    one = load_kraken_csv(data, "XBTUSD")
    span = one[-1].end - one[0].start
    bars = [replace(b, start=b.start + k * span) for k in range(copies) for b in one]
    fee = Decimal(26) / Decimal(10_000)
    config = TradingConfig(
        sizing=SizingConfig(SizingMethod.FIXED, Decimal(1)), exits=None, costs=Costs(fee)
    )
    spec = RunSpec("sma_cross", {}, "XBTUSD", str(data), 3600, 0, 0, Decimal(10_000), "", "", "")
    job = Backtest(
        bars,
        load_instrument_snapshot()["XBTUSD"],
        SmaCross(20, 50),
        config,
        Decimal(10_000),
        spec,
        FeeSchedule.flat(fee, fee),
    )
    started = time.perf_counter()
    result, _ = run_backtest(job)
    seconds = time.perf_counter() - started
    return {"bars": len(bars), "seconds": seconds, "trades": result.summary.trades}


def _child(args: list[str]) -> tuple[dict[str, float], float]:
    """Run a child process; its JSON output and its own peak RSS in MiB."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    # wait4 reaps the child and returns its own resource usage (not all children's maximum).
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed with exit code {process.returncode}")
    return json.loads(out), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only:
        print(json.dumps(_engine_only(args.data, args.engine_only)))
        return
    if not args.data.is_file():
        raise SystemExit(f"--data {args.data}: no such file")
    table = Table(title=f"backtest: SMA 20/50 on {args.data.name}")
    for column in ("run", "bars", "seconds", "bars/s", "trades", "peak RSS MiB"):
        table.add_column(column, justify="right" if column != "run" else "left")
    per_bar = {}
    for copies in (1, 10):
        runs = [
            _child(
                [sys.executable, __file__, "--data", str(args.data), "--engine-only", str(copies)]
            )
            for _ in range(args.repeat)
        ]
        best, rss = min(runs, key=lambda r: r[0]["seconds"])
        per_bar[copies] = best["seconds"] / best["bars"]
        table.add_row(
            f"engine alone, {copies}x",
            f"{best['bars']:,.0f}",
            f"{best['seconds']:.3f}",
            f"{best['bars'] / best['seconds']:,.0f}",
            f"{best['trades']:,.0f}",
            f"{rss:.0f}",
        )
    out = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    command = [sys.executable, "-m", "aether.cli", "backtest", "--data", str(args.data)]
    command += [*COMMAND, "--out", str(out), "--json"]
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        summary, rss = _child(command)
        timings.append((time.perf_counter() - started, summary, rss))
    seconds, summary, rss = min(timings, key=lambda t: t[0])
    table.add_row(
        "whole `aether backtest`",
        f"{summary['bars']:,}",
        f"{seconds:.3f}",
        f"{summary['bars'] / seconds:,.0f}",
        f"{summary['trades']:,}",
        f"{rss:.0f}",
    )
    console = Console()
    console.print(table)
    ratio = per_bar[10] / per_bar[1]
    console.print(f"10x cost per bar / 1x cost per bar: {ratio:.2f} (target <= 1.1)")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
