"""``aether backtest`` as a user runs it: the shipped slice, reports, determinism, bad input."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from aether.marketdata.shipped import shipped_data
from tests.support.cli import aether

SLICE = shipped_data("kraken_XBTUSD_60.csv")


def run(tmp_path: Path, *args: str) -> dict[str, object]:
    result = aether("backtest", "--out", str(tmp_path), "--json", *args)
    assert result.returncode == 0, result.stderr
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_sma_cross_on_the_shipped_slice_writes_a_report_and_trades(tmp_path: Path) -> None:
    out = run(tmp_path, "--strategy", "sma_cross", "--data", str(SLICE))
    for key in ("trades", "final_equity", "total_return", "max_drawdown", "sharpe", "fees_paid"):
        assert key in out
    assert out["bars"] == 17541
    assert isinstance(out["trades"], int)
    assert out["trades"] > 10
    report, trades = Path(str(out["report"])), Path(str(out["trades_csv"]))
    html = report.read_text()
    assert "LightweightCharts" in html
    assert "sma_cross" in html
    lines = trades.read_text().splitlines()
    assert lines[0].startswith("symbol,entry_time,exit_time")
    assert len(lines) == out["trades"] + 1  # header + one row per round trip
    assert float(str(out["fees_paid"])) > 0


def test_the_same_backtest_twice_gives_byte_identical_trade_csvs(tmp_path: Path) -> None:
    args = ("--strategy", "breakout", "--param", "entry=30", "--exits", "atr",
            "--stop-loss", "2", "--take-profit", "4", "--trailing", "3")  # fmt: skip
    first = run(tmp_path / "a", *args)
    second = run(tmp_path / "b", *args)
    assert first["trades"] == second["trades"]
    assert int(str(first["trades"])) > 0
    a = Path(str(first["trades_csv"])).read_bytes()
    b = Path(str(second["trades_csv"])).read_bytes()
    assert a == b
    assert first["final_equity"] == second["final_equity"]


def test_human_output_has_a_summary(tmp_path: Path) -> None:
    result = aether("backtest", "--out", str(tmp_path), "--start", "2020-01-01",
                    "--sizing", "fixed", "--fraction", "0.5", "--exits", "none")  # fmt: skip
    assert result.returncode == 0, result.stderr
    for label in ("trades", "win rate", "annualised return", "Sortino", "exposure time"):
        assert label in result.stdout
    assert "2020-01-01 00:00 to" in result.stdout


# The shared XBTUSD history (../shared/data/kraken_XBTUSD_60.csv) up to the bar that closes
# its first SMA 20/50 round trip: lines 1 to 380, copied byte for byte.
EARLY_2013 = Path(__file__).parent / "data" / "kraken_XBTUSD_60_2013-10-06_2013-11-20.csv"


def test_fills_at_printed_opens_keep_the_price_history_printed(tmp_path: Path) -> None:
    # Issue 11: the entry (signal 2013-11-01 06:00) fills at the next open, 203.59999, and the
    # exit at 513.4088; today's tick (0.1) once moved them to 203.6 and 513.4.
    out = run(tmp_path, "--strategy", "sma_cross", "--param", "fast=20", "--param", "slow=50",
              "--data", str(EARLY_2013), "--pair", "XBTUSD", "--cash", "10000", "--fee-bps",
              "26", "--sizing", "fixed", "--fraction", "1.0", "--exits", "none")  # fmt: skip
    with Path(str(out["trades_csv"])).open(newline="") as handle:
        (trip,) = list(csv.DictReader(handle))
    assert (trip["entry_time"], trip["entry_price"]) == ("2013-11-01T07:00:00Z", "203.59999")
    assert (trip["exit_time"], trip["exit_price"]) == ("2013-11-20T07:00:00Z", "513.4088")
    quantity = Decimal(trip["quantity"])
    # Fees (0.26 %, half-up to 1e-8) and PnL are worked out from the printed prices.
    fees = sum(
        (
            (quantity * Decimal(price) * Decimal("0.0026")).quantize(Decimal("1e-8"), ROUND_HALF_UP)
            for price in ("203.59999", "513.4088")
        ),
        Decimal(0),
    )
    assert Decimal(trip["fees"]) == fees
    pnl = quantity * (Decimal("513.4088") - Decimal("203.59999")) - fees
    assert Decimal(trip["pnl"]) == pnl
    assert Decimal(str(out["final_equity"])) == Decimal(10000) + pnl  # the portfolio agrees


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = [
    "1577836800,7200.1,7210.0,7190.0,7205.5,1.5,10",
    "1577840400,7205.5,7220.0,7200.0,7210.0,2,12",
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([*GOOD, "1577844000,7210.0,7215.0,oops,7212.0,1,3"], ":3: "),
        ([*GOOD, "1577844000,7210.0,7215.0,NaN,7212.0,1,3"], ":3: "),
        (["time,open,high,low,close,volume,trades", *GOOD], ":1: "),
        (["1577836800,7200.1,7210.0,7190.0,7205.5"], ":1: "),
        ([*GOOD, "1577844000,7210.0,7215.0,7200.0,7212.0,-1,3"], ":3: "),
    ],
    ids=["malformed-number", "nan-price", "header-layout", "missing-columns", "negative-volume"],
)
def test_bad_history_is_an_error_naming_file_and_line(
    tmp_path: Path, lines: list[str], expected: str
) -> None:
    data = write(tmp_path / "bad.csv", lines)
    result = aether("backtest", "--data", str(data), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert f"bad.csv{expected}" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--pair", "XBTEUR"), "--pair XBTEUR"),
        (("--pair", "USDTUSD"), "--pair USDTUSD"),
        (("--cash", "-5"), "--cash"),
        (("--cash", "NaN"), "--cash"),
        (("--fee-bps", "abc"), "--fee-bps"),
        (("--fee-bps", "10000"), "must be below 10000"),
        (("--param", "fast=x"), "fast='x'"),
        (("--param", "fast"), "expected NAME=VALUE"),
        (("--strategy", "martingale"), "unknown strategy"),
        (("--sizing", "kelly"), "--sizing"),
        (("--exits", "none"), "volatility sizing needs exits"),
        (("--start", "yesterday"), "--start"),
        (("--start", "2031-01-01"), "no bars"),
        (("--data", "/nonexistent.csv"), "no such file"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    result = aether("backtest", "--out", str(tmp_path / "out"), *args)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_pair_is_accepted_in_any_common_spelling(tmp_path: Path) -> None:
    out = run(tmp_path, "--pair", "BTC/USD", "--start", "2020-06-01",
              "--sizing", "fixed", "--exits", "none")  # fmt: skip
    assert out["pair"] == "XBTUSD"
    assert out["bars"] > 0  # the shipped slice of XBTUSD was found from the typed name
    refused = aether("backtest", "--out", str(tmp_path / "no"), "--pair", "ETH/BTC")
    assert refused.returncode != 0
    assert "'ETH/BTC' is not a USD pair of the shipped instrument snapshot" in refused.stderr
