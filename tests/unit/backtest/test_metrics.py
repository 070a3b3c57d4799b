"""Backtest statistics against small series computed by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import pytest

from aether.backtest.metrics import summarize
from aether.backtest.results import RoundTrip, Summary

HOUR = 3_600
DAY = 86_400
HOURS_A_YEAR = 365.25 * 24  # periods per year of hourly bars


def trip(pnl: str) -> RoundTrip:
    return RoundTrip(
        "XBT/USD", 0, HOUR, Decimal(1), Decimal(100), Decimal(100), Decimal(0), Decimal(pnl), "x"
    )


def run(
    equity: Sequence[float],
    *,
    cash: str = "100",
    final: str | None = None,
    interval: int = HOUR,
    trips: Sequence[RoundTrip] = (),
    in_position: int = 0,
) -> Summary:
    times = [interval * (i + 1) for i in range(len(equity))]
    if final is None:
        final = str(equity[-1]) if equity else cash
    return summarize(
        starting_cash=Decimal(cash),
        final_equity=Decimal(final),
        equity_ts=times,
        equity=equity,
        round_trips=trips,
        fees_paid=Decimal("1.5"),
        in_position_bars=in_position,
        bars=len(equity),
        interval=interval,
    )


def test_every_statistic_of_a_small_hourly_series() -> None:
    # Curve 100 -> 110 -> 99 -> 121: returns 1/10, -1/10, 2/9 with mean 2/27;
    # deviations 7/270, -47/270, 40/270, so the sample variance is 3858 / 72900 / 2.
    s = run([110.0, 99.0, 121.0], trips=[trip("5"), trip("-3")], in_position=2)
    mean = 2 / 27
    std = math.sqrt(1929) / 270
    assert s.trades == 2
    assert s.win_rate == 0.5
    assert s.total_return == pytest.approx(0.21)
    assert s.annualised_return == 0.0  # three hours are too short to annualise
    assert s.max_drawdown == pytest.approx(0.1)  # 110 -> 99
    assert s.sharpe == pytest.approx(mean / std * math.sqrt(HOURS_A_YEAR))
    # Downside deviation: sqrt(0.1^2 / (3 - 1)).
    assert s.sortino == pytest.approx(mean / math.sqrt(0.005) * math.sqrt(HOURS_A_YEAR))
    assert s.exposure_time == pytest.approx(2 / 3)
    assert s.fees_paid == Decimal("1.5")
    assert s.starting_cash == Decimal(100)
    assert s.final_equity == Decimal("121.0")


def test_win_rate_counts_only_positive_pnl() -> None:
    s = run([100.0], trips=[trip("5"), trip("-3"), trip("0"), trip("0.01")])
    assert (s.trades, s.win_rate) == (4, 0.5)


def test_annualised_return_compounds_over_the_calendar_span() -> None:
    # Two daily bars span two days (first close - one bar to the last close).
    s = run([100.0, 101.0], interval=DAY)
    assert s.annualised_return == pytest.approx(1.01 ** (365.25 / 2) - 1)


def test_a_span_of_one_year_annualises_to_the_total_return() -> None:
    quarter = int(365.25 * DAY / 4)  # 7,889,400 s: four bars make exactly one year
    s = run([105.0, 110.0, 100.0, 120.0], interval=quarter)
    assert s.total_return == pytest.approx(0.2)
    assert s.annualised_return == pytest.approx(0.2)


def test_a_total_loss_annualises_to_minus_one() -> None:
    s = run([50.0, 0.0], interval=DAY)
    assert s.total_return == -1.0
    assert s.annualised_return == -1.0
    assert s.max_drawdown == 1.0


def test_an_overflowing_annualised_return_is_zero() -> None:
    s = run([100.0, 1e8], final="100000000", interval=DAY // 2)  # a million-fold in a day
    assert s.annualised_return == 0.0


def test_drawdown_counts_a_fall_below_the_starting_cash_on_the_first_bar() -> None:
    assert run([90.0, 95.0]).max_drawdown == pytest.approx(0.1)


def test_drawdown_is_measured_from_the_highest_peak() -> None:
    # Peaks 120 then 150; the deepest fall is 150 -> 105 (30%), not 120 -> 96 (20%).
    s = run([120.0, 96.0, 150.0, 105.0, 140.0])
    assert s.max_drawdown == pytest.approx(0.3)


def test_a_rising_curve_has_no_drawdown_and_no_sortino() -> None:
    s = run([101.0, 103.0, 104.0])
    assert s.max_drawdown == 0.0
    assert s.sortino == 0.0  # no negative return: downside deviation is zero
    assert s.sharpe > 0


def test_no_equity_gives_zeros() -> None:
    s = run([])
    assert s == Summary(
        trades=0,
        win_rate=0.0,
        total_return=0.0,
        annualised_return=0.0,
        max_drawdown=0.0,
        sharpe=0.0,
        sortino=0.0,
        exposure_time=0.0,
        fees_paid=Decimal("1.5"),
        starting_cash=Decimal(100),
        final_equity=Decimal(100),
    )


def test_one_return_is_too_few_for_ratios() -> None:
    s = run([90.0])
    assert (s.sharpe, s.sortino) == (0.0, 0.0)
    assert s.max_drawdown == pytest.approx(0.1)


@pytest.mark.parametrize(
    "equity",
    [
        pytest.param([100.0, 100.0, 100.0], id="flat"),
        pytest.param([110.0, 121.0, 133.1, 146.41], id="equal-returns"),
    ],
)
def test_zero_deviation_gives_zero_sharpe(equity: list[float]) -> None:
    s = run(equity)
    assert s.sharpe == 0.0
    assert s.sortino == 0.0
    assert math.isfinite(s.annualised_return)


def test_zero_starting_cash_is_not_divided_by() -> None:
    s = run([0.0, 0.0], cash="0", final="0", interval=DAY)
    assert (s.total_return, s.annualised_return, s.max_drawdown) == (0.0, 0.0, 0.0)
    assert (s.sharpe, s.sortino) == (0.0, 0.0)


def test_a_step_from_zero_equity_has_no_return() -> None:
    # 100 -> 0 -> 50: the step from 0 is undefined and left out, leaving -1 and the
    # single return of the first bar (0.0); one more bar adds 50 -> 55.
    s = run([100.0, 0.0, 50.0, 55.0])
    returns = [0.0, -1.0, 0.1]
    mean = sum(returns) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)
    assert s.sharpe == pytest.approx(mean / std * math.sqrt(HOURS_A_YEAR))
    assert s.max_drawdown == 1.0


def test_mismatched_series_are_refused() -> None:
    with pytest.raises(ValueError, match="equity_ts has 2 points but equity has 1"):
        summarize(
            starting_cash=Decimal(100),
            final_equity=Decimal(100),
            equity_ts=[1, 2],
            equity=[100.0],
            round_trips=[],
            fees_paid=Decimal(0),
            in_position_bars=0,
            bars=1,
            interval=HOUR,
        )


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        run([100.0], interval=0)
