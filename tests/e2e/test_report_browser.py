"""The HTML report in a real browser: headless Chromium draws both charts without errors."""

from __future__ import annotations

import importlib.util
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aether.backtest.metrics import summarize
from aether.backtest.report import write_report
from aether.backtest.results import BacktestResult, RoundTrip, RunSpec
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from tests.support.cli import aether

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
HOUR = 3_600
START = 1_700_000_000 // HOUR * HOUR
FEE_RATE = Decimal("0.0026")
CENT = Decimal("0.01")


def synthetic_result(points: int = 17_000, seed: int = 7) -> BacktestResult:
    """A plausible hourly run: a random-walk price and a long-only strategy trading it."""
    rng = random.Random(seed)
    cash = Decimal("10000")
    start_cash = cash
    price = Decimal("30000")
    quantity = Decimal(0)
    entry: tuple[int, Decimal, Decimal, Decimal] | None = None  # ts, qty, price, fee
    fills: list[Fill] = []
    reasons: dict[str, str] = {}
    trips: list[RoundTrip] = []
    times: list[int] = []
    equity: list[float] = []
    fees_paid = Decimal(0)
    held = 0

    def fill(ts: int, side: Side, qty: Decimal, reason: str) -> Decimal:
        order = f"o{len(fills)}"
        fee = (qty * price * FEE_RATE).quantize(CENT)
        fills.append(
            Fill(f"t{len(fills)}", order, "XBT/USD", side, qty, price, fee, "USD",
                 Liquidity.TAKER, ts * 1_000_000_000 + 1)
        )  # fmt: skip
        reasons[order] = reason
        return fee

    for bar in range(points):
        close_ts = START + (bar + 1) * HOUR
        step = Decimal(str(round(rng.gauss(0.00005, 0.008), 6)))
        price = (price * (1 + step)).quantize(CENT)
        if entry is None and rng.random() < 0.01:
            quantity = (cash / price * Decimal("0.98")).quantize(Decimal("0.00000001"))
            fee = fill(close_ts - 1, Side.BUY, quantity, "signal")
            cash -= quantity * price + fee
            fees_paid += fee
            entry = (close_ts - 1, quantity, price, fee)
        elif entry is not None and rng.random() < 0.015:
            reason = rng.choice(["signal", "stop_loss", "take_profit"])
            fee = fill(close_ts - 1, Side.SELL, quantity, reason)
            cash += quantity * price - fee
            fees_paid += fee
            ts, qty, entry_price, entry_fee = entry
            pnl = qty * (price - entry_price) - entry_fee - fee
            trips.append(
                RoundTrip("XBT/USD", ts, close_ts - 1, qty, entry_price, price,
                          entry_fee + fee, pnl, reason)
            )  # fmt: skip
            quantity, entry = Decimal(0), None
        held += entry is not None
        times.append(close_ts)
        equity.append(float(cash + quantity * price))
    final = (cash + quantity * price).quantize(CENT)
    spec = RunSpec(
        strategy="sma_cross", params={"fast": "20", "slow": "50"}, pair="XBT/USD",
        data="stored candles", interval=HOUR, start=START, end=times[-1], cash=start_cash,
        fee="26 bps taker / 16 bps maker", sizing="fixed fraction 0.98", exits="stop 5%",
    )  # fmt: skip
    summary = summarize(
        starting_cash=start_cash, final_equity=final, equity_ts=times, equity=equity,
        round_trips=trips, fees_paid=fees_paid, in_position_bars=held, bars=points,
        interval=HOUR,
    )  # fmt: skip
    return BacktestResult(spec, summary, trips, fills, reasons, times, equity, points)


# Counts canvases whose backing store has at least one non-transparent pixel, and checks the
# largest one (the plot pane); lightweight-charts draws panes and axes on canvases of their own.
_DRAWN = """(id) => {
  const canvases = Array.from(document.querySelectorAll('#' + id + ' canvas'));
  const painted = (canvas) => {
    if (canvas.width === 0 || canvas.height === 0) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
    return false;
  };
  let largest = null;
  for (const c of canvases) {
    if (largest === null || c.width * c.height > largest.width * largest.height) largest = c;
  }
  return {
    canvases: canvases.length,
    painted: canvases.filter(painted).length,
    width: largest ? largest.width : 0,
    height: largest ? largest.height : 0,
    plot: largest !== null && painted(largest),
  };
}"""


@dataclass
class Browser:
    page: Page
    errors: list[str]  # console errors and uncaught exceptions
    requests: list[str]  # every URL the page asked for

    def open(self, report: Path) -> None:
        self.page.goto(report.as_uri())
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(300)  # charts paint on the next animation frames


@pytest.fixture
def browser() -> Iterator[Browser]:
    # CI installs both and sets AETHER_TEST_REQUIRE_BROWSER=1, so there a missing browser is a
    # failure, not a quiet skip.
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing: apt-get install -y chromium"
    elif importlib.util.find_spec("playwright") is None:
        missing = "the playwright package is missing: pip install playwright"
    if missing is not None:
        if os.environ.get("AETHER_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 1000})
            opened = Browser(page, [], [])
            page.on(
                "console", lambda m: opened.errors.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e: opened.errors.append(str(e)))
            page.on("request", lambda r: opened.requests.append(r.url))
            yield opened
        finally:
            chromium.close()


def test_report_draws_both_charts_without_errors(tmp_path: Path, browser: Browser) -> None:
    report = tmp_path / "report.html"
    result = synthetic_result(points=50_000)
    write_report(report, result)

    browser.open(report)
    equity = browser.page.evaluate(_DRAWN, "equity-chart")
    drawdown = browser.page.evaluate(_DRAWN, "drawdown-chart")

    assert browser.errors == []
    assert [url for url in browser.requests if not url.startswith("file:")] == []
    for drawn in (equity, drawdown):
        assert drawn["canvases"] >= 2
        assert drawn["width"] > 300
        assert drawn["height"] > 100
        assert drawn["plot"] is True
        assert drawn["painted"] >= 2  # the plot and at least the price axis
    assert "equity" in browser.page.inner_text("#legend")
    rows = browser.page.locator("table.trips tbody tr").count()
    assert rows == min(len(result.round_trips), 500)


def test_report_without_equity_says_so_without_errors(tmp_path: Path, browser: Browser) -> None:
    full = synthetic_result(points=10)
    empty = BacktestResult(full.spec, full.summary, [], [], {}, [], [], 0)
    report = tmp_path / "empty.html"
    write_report(report, empty)

    browser.open(report)

    assert browser.errors == []
    assert browser.page.inner_text("#equity-chart") == "No equity data."
    assert browser.page.locator("canvas").count() == 0


def test_the_backtest_command_report_opens_with_the_chart_drawn(
    tmp_path: Path, browser: Browser
) -> None:
    result = aether("backtest", "--strategy", "sma_cross", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = Path(json.loads(result.stdout)["report"])

    browser.open(report)
    equity = browser.page.evaluate(_DRAWN, "equity-chart")

    assert browser.errors == []
    assert equity["plot"] is True
    browser.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
