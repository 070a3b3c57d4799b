"""find_holes and resample on hand-made series and on the shipped slice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aether.domain.bars import Bar
from aether.marketdata.bar_series import find_holes, resample
from aether.marketdata.history_holes import Hole
from aether.marketdata.shipped import shipped_data
from aether.venues.kraken.ohlcvt_csv import load_kraken_csv

H = 3600
DAY0 = 1599955200  # 2020-09-13 00:00 UTC, a multiple of 86400 (and so of 4 h)


def bar(hour: int, o: str, h: str, lo: str, c: str, v: str, n: int, symbol: str = "XBTUSD") -> Bar:
    d = Decimal
    return Bar(symbol, DAY0 + hour * H, H, d(o), d(h), d(lo), d(c), d(v), n)


# Hours 0-5 and 12-13 of day 0, hour 25 of day 1. Hours 6-11 (the whole 08:00 4 h bucket and
# half of the 04:00 one) and 14-24 have no trades.
SERIES = [
    bar(0, "10", "12", "9", "11", "1.5", 3),
    bar(1, "11", "13", "10", "12", "2", 4),
    bar(2, "12", "12.5", "8", "9", "0.25", 1),
    bar(3, "9", "10", "9", "10", "1", 2),
    bar(4, "10", "11", "10", "10.5", "3", 5),
    bar(5, "10.5", "15", "10.5", "14", "4", 6),
    bar(12, "20", "21", "19", "20.5", "0.5", 1),
    bar(13, "20.5", "22", "20", "21", "0.5", 2),
    bar(25, "30", "31", "29", "30", "7", 9),
]


def test_find_holes_on_a_crafted_series() -> None:
    assert find_holes(SERIES) == [
        Hole(DAY0 + 6 * H, DAY0 + 12 * H, 6),
        Hole(DAY0 + 14 * H, DAY0 + 25 * H, 11),
    ]
    assert find_holes(SERIES[:6]) == []
    assert find_holes(SERIES[:1]) == []
    assert find_holes([]) == []


def test_find_holes_refuses_mixed_or_unordered_series() -> None:
    with pytest.raises(ValueError, match="mixes"):
        find_holes([SERIES[0], bar(1, "1", "1", "1", "1", "1", 1, symbol="ETHUSD")])
    with pytest.raises(ValueError, match="overlaps or precedes"):
        find_holes([SERIES[1], SERIES[0]])


def test_slice_has_exactly_the_hole_stated_in_docs_data_md() -> None:
    for symbol in ("XBTUSD", "ETHUSD"):
        bars = load_kraken_csv(shipped_data(f"kraken_{symbol}_60.csv"), symbol)
        # 2019-07-14 22:00 to 2019-07-15 01:00 UTC: three hours with no trade on either pair.
        assert find_holes(bars) == [Hole(1563141600, 1563152400, 3)]
        assert (bars[-1].end - bars[0].start) // H == len(bars) + 3


def test_resample_to_4h_by_hand() -> None:
    out = resample(SERIES, 4 * H)
    d = Decimal
    assert out == [
        # 00:00-04:00 from hours 0-3
        Bar("XBTUSD", DAY0, 4 * H, d("10"), d("13"), d("8"), d("10"), d("4.75"), 10),
        # 04:00-08:00 from hours 4-5 only (6 and 7 are holes): not padded, not shifted
        Bar("XBTUSD", DAY0 + 4 * H, 4 * H, d("10"), d("15"), d("10"), d("14"), d("7"), 11),
        # 08:00-12:00 has no source bar: absent, never invented
        Bar("XBTUSD", DAY0 + 12 * H, 4 * H, d("20"), d("22"), d("19"), d("21"), d("1.0"), 3),
        Bar("XBTUSD", DAY0 + 24 * H, 4 * H, d("30"), d("31"), d("29"), d("30"), d("7"), 9),
    ]
    assert DAY0 + 8 * H not in {b.start for b in out}


def test_resample_to_1440_minutes_by_hand() -> None:
    out = resample(SERIES, 24 * H)
    d = Decimal
    assert out == [
        Bar("XBTUSD", DAY0, 24 * H, d("10"), d("22"), d("8"), d("21"), d("12.75"), 24),
        Bar("XBTUSD", DAY0 + 24 * H, 24 * H, d("30"), d("31"), d("29"), d("30"), d("7"), 9),
    ]


def test_resample_aligns_buckets_to_the_epoch_not_the_first_bar() -> None:
    out = resample(SERIES[2:4], 4 * H)  # the series starts at 02:00
    assert [b.start for b in out] == [DAY0]
    assert (out[0].open, out[0].close) == (Decimal("12"), Decimal("10"))


def test_resample_refuses_a_non_multiple_interval() -> None:
    for interval in (90 * 60, 1800, 0, -4 * H):
        with pytest.raises(ValueError, match="positive multiple of 3600 s"):
            resample(SERIES, interval)


def test_resample_same_interval_is_identity() -> None:
    assert resample(SERIES, H) == SERIES
    assert resample([], 4 * H) == []


def test_resample_slice_preserves_totals() -> None:
    bars = load_kraken_csv(shipped_data("kraken_XBTUSD_60.csv"), "XBTUSD")
    daily = resample(bars, 86400)
    assert sum((b.volume for b in daily), Decimal(0)) == sum((b.volume for b in bars), Decimal(0))
    assert sum(b.trades for b in daily) == sum(b.trades for b in bars)
    assert len(daily) == len({b.start // 86400 for b in bars}) == 731  # 2018-10-01..2020-09-30
    assert max(b.high for b in daily) == max(b.high for b in bars)
    assert all(b.start % 86400 == 0 and b.low <= min(b.open, b.close) for b in daily)
