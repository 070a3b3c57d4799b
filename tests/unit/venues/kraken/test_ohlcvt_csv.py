"""load_kraken_csv: exact values from the shipped slice, windows, and fail-closed parsing."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from aether.marketdata.shipped import shipped_data
from aether.venues.kraken.ohlcvt_csv import HistoryFormatError, load_kraken_csv

XBT = "kraken_XBTUSD_60.csv"
ETH = "kraken_ETHUSD_60.csv"
OCT_2018 = 1538352000  # 2018-10-01 00:00 UTC, the slice's first bar
GOOD = "1538352000,6603.8,6633.3,6603.8,6626.2,47.34149785,185\n"


def csv_lines(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()]


@pytest.mark.parametrize(("name", "symbol"), [(XBT, "XBTUSD"), (ETH, "ETHUSD")])
def test_slice_loads_every_row_with_the_exact_csv_values(name: str, symbol: str) -> None:
    path = shipped_data(name)
    rows = csv_lines(path)
    bars = load_kraken_csv(path, symbol)

    assert len(bars) == len(rows) == path.read_bytes().count(b"\n")
    for bar, row in ((bars[0], rows[0]), (bars[-1], rows[-1])):
        assert bar.symbol == symbol
        assert bar.interval == 3600
        assert bar.start == int(row[0])
        # str() of a Decimal built from text gives the text back: no float ever touched it.
        values = [bar.open, bar.high, bar.low, bar.close, bar.volume]
        assert [str(v) for v in values] == row[1:6]
        assert all(isinstance(v, Decimal) for v in values)
        assert bar.trades == int(row[6])
    assert bars[0].start == OCT_2018
    assert bars[-1].start == 1601506800  # 2020-09-30 23:00 UTC


def test_first_xbt_bar_is_the_known_row() -> None:
    bar = load_kraken_csv(shipped_data(XBT), "XBTUSD")[0]
    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal("6603.8"),
        Decimal("6633.3"),
        Decimal("6603.8"),
        Decimal("6626.2"),
    )
    assert bar.volume == Decimal("47.34149785")
    assert bar.trades == 185


def test_window_is_start_inclusive_end_exclusive() -> None:
    path = shipped_data(XBT)
    start, end = 1546300800, 1548979200  # 2019-01-01 .. 2019-02-01 UTC
    expected = [int(r[0]) for r in csv_lines(path) if start <= int(r[0]) < end]

    bars = load_kraken_csv(path, "XBTUSD", start=start, end=end)

    assert [b.start for b in bars] == expected
    assert bars[0].start == start  # a bar exists at the start: inclusive
    assert all(b.start < end for b in bars)
    assert load_kraken_csv(path, "XBTUSD", start=end, end=end) == []
    assert len(load_kraken_csv(path, "XBTUSD", start=start)) == sum(
        1 for r in csv_lines(path) if int(r[0]) >= start
    )


def test_slice_loads_fast() -> None:
    # Generous bound against accidental slow paths; measured ~55 ms for this 17.5k-row file.
    began = time.perf_counter()
    load_kraken_csv(shipped_data(XBT), "XBTUSD")
    assert time.perf_counter() - began < 1.0


BAD_CASES = [
    ("header", "time,open,high,low,close,volume,trades\n" + GOOD, 1, "not an integer"),
    ("too few columns", GOOD + "1538355600,1,1,1,1,1\n", 2, "expected 7 columns"),
    ("too many columns", GOOD + "1538355600,1,1,1,1,1,1,1\n", 2, "expected 7 columns"),
    ("blank line", GOOD + "\n" + "1538355600,1,1,1,1,1,1\n", 2, "got 0"),
    ("non-numeric price", GOOD + "1538355600,abc,1,1,1,1,1\n", 2, "open 'abc' is not a number"),
    ("NaN close", GOOD + "1538355600,1,1,1,NaN,1,1\n", 2, "close 'NaN' is not a finite"),
    ("inf high", GOOD + "1538355600,1,inf,1,1,1,1\n", 2, "high 'inf' is not a finite"),
    ("inf volume", GOOD + "1538355600,1,1,1,1,Infinity,1\n", 2, "volume 'Infinity'"),
    ("fractional trades", GOOD + "1538355600,1,1,1,1,1,1.5\n", 2, "trades '1.5'"),
    ("zero price", GOOD + "1538355600,0,1,0,1,1,1\n", 2, "prices must be positive"),
    ("negative low", GOOD + "1538355600,1,1,-1,1,1,1\n", 2, "prices must be positive"),
    ("negative volume", GOOD + "1538355600,1,1,1,1,-0.5,1\n", 2, "must not be negative"),
    ("negative trades", GOOD + "1538355600,1,1,1,1,1,-1\n", 2, "must not be negative"),
    ("high below open", GOOD + "1538355600,2,1.5,1,1,1,1\n", 2, "below max(open, close)"),
    ("high below close", GOOD + "1538355600,1,1.5,1,2,1,1\n", 2, "below max(open, close)"),
    ("low above open", GOOD + "1538355600,1,3,1.5,2,1,1\n", 2, "above min(open, close)"),
    ("low above close", GOOD + "1538355600,2,3,1.5,1,1,1\n", 2, "above min(open, close)"),
    ("duplicate time", GOOD + GOOD, 2, "strictly increasing"),
    ("time goes back", GOOD + "1538348400,1,1,1,1,1,1\n", 2, "strictly increasing"),
    ("unaligned time", GOOD + "1538355601,1,1,1,1,1,1\n", 2, "not aligned to the 3600 s"),
]


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_malformed_rows_fail_naming_file_and_line(
    tmp_path: Path, content: str, line: int, fragment: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(HistoryFormatError) as caught:
        load_kraken_csv(path, "XBTUSD")

    error = caught.value
    assert error.path == path
    assert error.line == line
    assert f"{path}:{line}:" in str(error)
    assert fragment in str(error)
    assert isinstance(error, ValueError)


def test_bad_row_outside_the_window_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "late_bad.csv"
    path.write_text(GOOD + "1538355600,1,1,1,1,1,1\n" + "1538359200,1,1,1,nan,1,1\n")
    with pytest.raises(HistoryFormatError, match=r"late_bad\.csv:3: close 'nan'"):
        load_kraken_csv(path, "XBTUSD", end=1538355600)


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(HistoryFormatError, match=r"empty\.csv: file is empty"):
        load_kraken_csv(path, "XBTUSD")


def test_non_ascii_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(GOOD.encode() + b"1538355600,1\xc2\xb7,1,1,1,1,1\n")
    with pytest.raises(HistoryFormatError, match=r"binary\.csv:2: open '1") as caught:
        load_kraken_csv(path, "XBTUSD")
    assert caught.value.line == 2


def test_unicode_digits_are_not_numbers(tmp_path: Path) -> None:
    # Decimal() accepts any Unicode digit; the file is ASCII, so these bytes must not parse.
    path = tmp_path / "arabic.csv"
    path.write_bytes(GOOD.encode() + "1538355600,\u0663,1,1,1,1,1\n".encode())
    with pytest.raises(HistoryFormatError, match=r"arabic\.csv:2: open"):
        load_kraken_csv(path, "XBTUSD")


def test_interval_must_match_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hourly.csv"
    path.write_text(GOOD + "1538355600,1,1,1,1,1,1\n")
    # 1538352000 is a multiple of 4 h but 1538355600 is not: the file is not 4-hourly.
    with pytest.raises(HistoryFormatError, match=r"hourly\.csv:2: .*not aligned to the 14400 s"):
        load_kraken_csv(path, "XBTUSD", interval=14400)
    with pytest.raises(ValueError, match="positive"):
        load_kraken_csv(path, "XBTUSD", interval=0)
