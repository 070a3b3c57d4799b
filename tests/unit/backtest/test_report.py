"""The trades CSV and the HTML report: exact, deterministic, atomic, escaped and offline."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from aether.backtest import trades_csv
from aether.backtest.metrics import summarize
from aether.backtest.report import MAX_TABLE_ROWS, write_report
from aether.backtest.results import BacktestResult, RoundTrip, RunSpec
from aether.backtest.trades_csv import write_trades_csv
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side

HOUR = 3_600
T0 = 1_700_002_800  # 2023-11-14T23:00:00Z, an hour boundary
HOSTILE = '<script>alert("x")</script> & co'

TRIP = RoundTrip(
    symbol="XBT/USD",
    entry_ts=1_700_000_000,
    exit_ts=1_700_003_600,
    quantity=Decimal("0.50000000"),
    entry_price=Decimal("30000.0"),
    exit_price=Decimal("30300.0"),
    fees=Decimal("78.99"),
    pnl=Decimal("71.01"),
    exit_reason="take_profit",
)


def trips(count: int) -> list[RoundTrip]:
    return [
        RoundTrip(
            "ETH/USD", T0 + i * HOUR, T0 + i * HOUR + 60, Decimal("1.25"), Decimal("2000"),
            Decimal(2000 + i % 7 - 3), Decimal("1.3"), Decimal(i % 7 - 3) * Decimal("1.25"),
            "signal" if i % 2 else "stop_loss",
        )
        for i in range(count)
    ]  # fmt: skip


def fill(n: int, side: Side, ts: int, order: str) -> Fill:
    return Fill(
        f"t{n}", order, "XBT/USD", side, Decimal("0.1"), Decimal("30000"), Decimal("7.8"),
        "USD", Liquidity.TAKER, ts * 1_000_000_000,
    )  # fmt: skip


def result(round_trips: list[RoundTrip] | None = None, strategy: str = HOSTILE) -> BacktestResult:
    times = [T0 + HOUR * (i + 1) for i in range(6)]
    equity = [10_000.0, 10_012.344, 9_990.5, 10_050.0, 10_049.996, 10_100.25]
    spec = RunSpec(
        strategy=strategy, params={"fast": "20", "note": "</script><b>bold</b>"}, pair="XBT/USD",
        data="/data/<candles>.csv", interval=HOUR, start=T0, end=times[-1],
        cash=Decimal("10000"), fee="26 bps taker", sizing="fixed fraction 1.0", exits="none",
    )  # fmt: skip
    fills = [
        fill(0, Side.BUY, T0 + 1_800, "a"),  # inside the first bar, which closes at T0+1h
        fill(1, Side.BUY, T0 + 1_900, "a"),  # a partial fill of the same order: no new arrow
        fill(2, Side.SELL, T0 + 4 * HOUR, "b"),  # exactly on a close: that bar
        fill(3, Side.SELL, T0 + 99 * HOUR, "c"),  # after the last bar: the last bar
    ]
    reasons = {"a": "signal", "b": "</script>stop", "c": "take_profit"}
    round_trips = [TRIP] if round_trips is None else round_trips
    summary = summarize(
        starting_cash=spec.cash, final_equity=Decimal("10100.25"), equity_ts=times,
        equity=equity, round_trips=round_trips, fees_paid=Decimal("31.2"), in_position_bars=3,
        bars=6, interval=HOUR,
    )  # fmt: skip
    return BacktestResult(spec, summary, round_trips, fills, reasons, times, equity, 6)


# --- trades CSV -------------------------------------------------------------------------------


def test_csv_content_is_exact(tmp_path: Path) -> None:
    tiny = RoundTrip(
        "SOL/USD", T0, T0 + 60, Decimal("1E-8"), Decimal("100"), Decimal("90"), Decimal("0"),
        Decimal("-1E-7"), "stop, manual",
    )  # fmt: skip
    path = tmp_path / "trades.csv"
    write_trades_csv(path, [TRIP, tiny])
    assert path.read_bytes() == (
        b"symbol,entry_time,exit_time,quantity,entry_price,exit_price,fees,pnl,return,"
        b"exit_reason\n"
        b"XBT/USD,2023-11-14T22:13:20Z,2023-11-14T23:13:20Z,0.50000000,30000.0,30300.0,"
        b"78.99,71.01,0.004734,take_profit\n"
        b"SOL/USD,2023-11-14T23:00:00Z,2023-11-14T23:01:00Z,0.00000001,100,90,0,"
        b'-0.0000001,-0.100000,"stop, manual"\n'
    )


def test_csv_is_byte_identical_for_the_same_input(tmp_path: Path) -> None:
    rows = trips(50)
    write_trades_csv(tmp_path / "a.csv", rows)
    write_trades_csv(tmp_path / "b.csv", rows)
    write_trades_csv(tmp_path / "b.csv", rows)  # overwriting gives the same bytes too
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert b"\r" not in (tmp_path / "a.csv").read_bytes()


def test_csv_without_round_trips_has_the_header_only(tmp_path: Path) -> None:
    write_trades_csv(tmp_path / "t.csv", [])
    assert (tmp_path / "t.csv").read_text() == ",".join(trades_csv.COLUMNS) + "\n"


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_trades_csv(tmp_path / "trades.csv", trips(3))
    write_report(tmp_path / "report.html", result())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "trades.csv"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trades.csv"
    path.write_text("old\n")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_trades_csv(path, trips(3))
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["trades.csv"]


# --- HTML report ------------------------------------------------------------------------------


def report_html(tmp_path: Path, res: BacktestResult | None = None) -> str:
    path = tmp_path / "report.html"
    write_report(path, res or result())
    return path.read_text(encoding="utf-8")


def embedded_data(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_report_embeds_the_chart_data(tmp_path: Path) -> None:
    data = embedded_data(report_html(tmp_path))
    assert data["cash"] == 10_000.0
    assert data["t"] == [T0 + HOUR * (i + 1) for i in range(6)]
    assert data["v"] == [10_000.0, 10_012.34, 9_990.5, 10_050.0, 10_050.0, 10_100.25]
    assert data["m"] == [
        [T0 + HOUR, "buy", "signal"],
        [T0 + 4 * HOUR, "sell", "</script>stop"],
        [T0 + 6 * HOUR, "sell", "take_profit"],
    ]


def test_report_escapes_user_text(tmp_path: Path) -> None:
    html = report_html(tmp_path)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "note=&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "/data/&lt;candles&gt;.csv" in html
    assert "<b>bold</b>" not in html
    # The reason tag inside the JSON block cannot close the script element.
    assert "\\u003c/script\\u003estop" in html
    # Exactly the three scripts of the template: data, library, page code.
    assert html.count("<script") == 3
    assert html.count("</script>") == 3


def test_report_is_self_contained(tmp_path: Path) -> None:
    html = report_html(tmp_path)
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None
    assert re.search(r"""(src|href)\s*=\s*["']?https?://(?!www\.tradingview\.com/)""", html) is None
    assert re.search(r"<link[^>]*stylesheet", html) is None
    assert "window.LightweightCharts=" in html  # the vendored library, inlined
    assert '<a href="https://www.tradingview.com/">' in html  # the attribution its license asks
    assert "TradingView Lightweight Charts" in html


def test_report_shows_spec_summary_and_round_trips(tmp_path: Path) -> None:
    html = report_html(tmp_path)
    for text in (
        "XBT/USD",
        "fast=20",
        "26 bps taker",
        "fixed fraction 1.0",
        "1h",
        "2023-11-14 23:00 to 2023-11-15 05:00 UTC",
        "$10,000.00",
        "$10,100.25",
        "1.00%",
        "take_profit",
        "2023-11-14 22:13",
        "0.50000000",
        "71.01",
        "0.47%",
    ):
        assert text in html, text  # fmt: skip


def test_report_names_the_risk_limits_the_run_had(tmp_path: Path) -> None:
    assert "<dt>Risk limits</dt><dd>none</dd>" in report_html(tmp_path)
    base = result()
    limited = replace(base, spec=replace(base.spec, risk="account <Co>: max order 250.00 USD"))
    html = report_html(tmp_path, limited)
    assert "<dt>Risk limits</dt><dd>account &lt;Co&gt;: max order 250.00 USD</dd>" in html


def test_report_caps_the_round_trip_table(tmp_path: Path) -> None:
    many = trips(MAX_TABLE_ROWS + 20)
    html = report_html(tmp_path, result(many))
    body = html.split('<table class="trips">')[1].split("</table>")[0]
    assert body.count("<tr>") == MAX_TABLE_ROWS + 1  # the header row too
    assert f'<td class="num">{MAX_TABLE_ROWS + 20}</td>' in body  # the latest are shown
    assert '<td class="num">20</td>' not in body
    assert f"Showing the last 500 of {MAX_TABLE_ROWS + 20} round trips" in html


def test_report_without_round_trips_says_so(tmp_path: Path) -> None:
    assert "No round trips were closed." in report_html(tmp_path, result([]))


def test_a_fill_just_after_a_close_belongs_to_the_next_bar(tmp_path: Path) -> None:
    res = result()
    late = replace(fill(9, Side.BUY, T0 + HOUR, "z"), ts_ns=(T0 + HOUR) * 1_000_000_000 + 1)
    moved = BacktestResult(
        res.spec, res.summary, res.round_trips, [late], {}, res.equity_ts, res.equity, 6
    )
    assert embedded_data(report_html(tmp_path, moved))["m"] == [[T0 + 2 * HOUR, "buy", ""]]


def test_report_without_equity_still_renders(tmp_path: Path) -> None:
    res = result([])
    empty = BacktestResult(res.spec, res.summary, [], res.fills, res.fill_reasons, [], [], 0)
    html = report_html(tmp_path, empty)
    assert embedded_data(html) == {"cash": 10_000.0, "t": [], "v": [], "m": []}


def test_report_refuses_unordered_times(tmp_path: Path) -> None:
    res = result()
    broken = BacktestResult(
        res.spec, res.summary, res.round_trips, res.fills, res.fill_reasons,
        [T0, T0 + HOUR, T0 + HOUR], [1.0, 2.0, 3.0], 3,
    )  # fmt: skip
    with pytest.raises(ValueError, match="must increase strictly"):
        write_report(tmp_path / "r.html", broken)
    assert list(tmp_path.iterdir()) == []
