"""Interval and pair from Kraken's bulk file names; CSV bars as candles and gaps."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from aether.domain.bars import Bar
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.kraken_csv import candles_of, gaps_of, interval_seconds
from aether.venues.kraken.ohlcvt_csv import name_parts

KNOWN = {"XBTUSD", "ETHUSD"}


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("XBTUSD_60.csv", ("XBTUSD", 60)),
        ("kraken_ETHUSD_1440.csv", ("ETHUSD", 1440)),
        ("xbtusd_5.CSV", ("XBTUSD", 5)),
        ("history.csv", (None, None)),
    ],
)
def test_name_parts(name: str, parts: tuple[str | None, int | None]) -> None:
    assert name_parts(Path(name)) == parts


def test_interval_from_the_option_or_the_name() -> None:
    assert interval_seconds(Path("XBTUSD_15.csv"), None, "XBTUSD", KNOWN) == 900
    assert interval_seconds(Path("mine.csv"), 60, "XBTUSD", KNOWN) == 3600
    assert interval_seconds(Path("XBTUSD_60.csv"), 60, "XBTUSD", KNOWN) == 3600


def test_no_interval_anywhere_asks_for_the_option() -> None:
    with pytest.raises(ImportInputError, match="--interval"):
        interval_seconds(Path("mine.csv"), None, "XBTUSD", KNOWN)


def test_option_and_name_disagreeing_is_refused() -> None:
    with pytest.raises(ImportInputError, match=r"60-minute.*--interval is 5"):
        interval_seconds(Path("XBTUSD_60.csv"), 5, "XBTUSD", KNOWN)


def test_a_file_named_for_another_pair_is_refused() -> None:
    with pytest.raises(ImportInputError, match=r"file name says ETHUSD.*--pair is XBTUSD"):
        interval_seconds(Path("ETHUSD_60.csv"), None, "XBTUSD", KNOWN)


def _bar(start: int) -> Bar:
    one = Decimal(1)
    return Bar("XBTUSD", start, 3600, one, Decimal(2), one, one, Decimal("0.5"), 3)


def test_bars_become_kraken_csv_candles_and_holes_become_gaps() -> None:
    bars = [_bar(0), _bar(3600), _bar(4 * 3600)]
    candles = candles_of(bars)
    assert [c.source for c in candles] == ["kraken-csv"] * 3
    assert candles[1].bar.start == 3600
    assert candles[1].bar.volume == Decimal("0.5")
    (gap,) = gaps_of(bars)
    assert (gap.start_ns, gap.end_ns) == (2 * 3600 * 10**9, 4 * 3600 * 10**9)
    assert (gap.kind, gap.source) == ("candle", "import:kraken-csv")
    assert gap.reason.startswith("2 x 3600 s")
