"""The shipped history slices are found by name; an unknown name lists the known ones."""

from __future__ import annotations

import pytest

from aether.marketdata.shipped import shipped_data, shipped_files

XBT = "kraken_XBTUSD_60.csv"
ETH = "kraken_ETHUSD_60.csv"


def test_shipped_files_and_unknown_name() -> None:
    assert {XBT, ETH} <= set(shipped_files())
    with pytest.raises(FileNotFoundError, match=r"available: .*kraken_XBTUSD_60\.csv"):
        shipped_data("kraken_DOGEUSD_60.csv")


def test_only_history_is_shipped_here() -> None:
    # The instrument snapshot is Kraken's and ships with the adapter (venues/kraken/data).
    assert all(name.endswith(".csv") for name in shipped_files())
