"""Interval parsing, symbol checks and missing-interval runs of the history query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aether.marketdata.history_query import MissingRun, missing_runs
from aether.marketdata.history_request import (
    MAX_INTERVAL_S,
    HistoryQueryError,
    check_symbol,
    parse_interval,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60", 60),
        ("3600", 3600),
        ("1m", 60),
        ("5m", 300),
        ("15m", 900),
        ("1h", 3600),
        ("4h", 14_400),
        ("1d", 86_400),
        ("1w", 604_800),
        ("30s", 30),
        ("1H", 3600),
    ],
)
def test_interval_accepts_seconds_and_short_forms(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0m", "1y", "1.5h", "-60", "h", "16d", "60 m"])
def test_interval_refuses_the_rest_naming_the_parameter(text: str) -> None:
    with pytest.raises(HistoryQueryError) as caught:
        parse_interval(text)
    assert caught.value.parameter == "interval"


def test_interval_limit_is_kraken_longest() -> None:
    assert parse_interval("15d") == MAX_INTERVAL_S


@pytest.mark.parametrize("symbol", ["XBTUSD", "ETHUSD", "1INCHUSD"])
def test_altnames_are_symbols(symbol: str) -> None:
    assert check_symbol(symbol) == symbol


@pytest.mark.parametrize("symbol", ["xbtusd", "BTC/USD", "X", "XBT.USD", "A" * 33])
def test_other_symbols_are_refused(symbol: str) -> None:
    with pytest.raises(HistoryQueryError) as caught:
        check_symbol(symbol)
    assert caught.value.parameter == "symbol"


def _minutes(*offsets: int) -> list[datetime]:
    return [T0 + k * MINUTE for k in offsets]


def test_no_run_when_every_interval_is_there() -> None:
    assert missing_runs(_minutes(0, 1, 2), T0, T0 + 3 * MINUTE, 60) == []


def test_runs_inside_before_and_after_the_data() -> None:
    runs = missing_runs(_minutes(2, 3, 7), T0, T0 + 10 * MINUTE, 60)
    assert runs == [
        MissingRun(T0, T0 + 2 * MINUTE, 2),
        MissingRun(T0 + 4 * MINUTE, T0 + 7 * MINUTE, 3),
        MissingRun(T0 + 8 * MINUTE, T0 + 10 * MINUTE, 2),
    ]


def test_no_data_at_all_is_one_run() -> None:
    assert missing_runs([], T0, T0 + 60 * MINUTE, 60) == [MissingRun(T0, T0 + 60 * MINUTE, 60)]


def test_bounds_off_the_grid_cover_the_intervals_starting_inside() -> None:
    # [00:00:30, 00:02:30) holds the starts 00:01 and 00:02.
    lo, hi = T0 + timedelta(seconds=30), T0 + timedelta(seconds=150)
    assert missing_runs([], lo, hi, 60) == [MissingRun(T0 + MINUTE, T0 + 3 * MINUTE, 2)]
    assert missing_runs(_minutes(1, 2), lo, hi, 60) == []


def test_a_start_off_the_grid_occupies_its_interval() -> None:
    starts = [T0 + timedelta(seconds=10), T0 + timedelta(seconds=125)]
    assert missing_runs(starts, T0, T0 + 3 * MINUTE, 60) == [
        MissingRun(T0 + MINUTE, T0 + 2 * MINUTE, 1)
    ]


def test_day_intervals_align_to_midnight_utc() -> None:
    day = timedelta(days=1)
    runs = missing_runs([T0, T0 + 3 * day], T0 + timedelta(hours=5), T0 + 4 * day, 86_400)
    assert runs == [MissingRun(T0 + day, T0 + 3 * day, 2)]
