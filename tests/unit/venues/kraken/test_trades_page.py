"""A page of Kraken's REST Trades as trade prints, exactly, and refused when malformed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aether.venues.kraken.trades_page import TradesPageError, parse_trades_page

# The shape of Kraken's documented example answer.
PAGE = {
    "XXBTZUSD": [
        ["30243.40000", "0.34507674", 1688669597.8277369, "b", "m", "", 61044952],
        ["30243.30000", "0.00376960", 1688669598.2804112, "s", "l", "", 61044953],
    ],
    "last": "1688671969993150842",
}


def test_parses_prices_exactly_and_the_cursor() -> None:
    page = parse_trades_page(PAGE, "XBTUSD", "XXBTZUSD")
    assert page.last_ns == 1688671969993150842
    first, second = page.trades
    assert first.price == Decimal("30243.40000")
    assert first.quantity == Decimal("0.34507674")
    assert (first.side, second.side) == ("buy", "sell")
    assert first.trade_id == 61044952
    assert first.symbol == "XBTUSD"
    # To the microsecond that storage keeps.
    assert first.ts_ns // 1000 == 1688669597827736


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (["abc", "1", 1.0, "b", "m", "", 1], "price"),
        (["1", "0", 1.0, "b", "m", "", 1], "volume"),
        (["1", "1", 1.0, "x", "m", "", 1], "side"),
        (["1", "1", 1.0, "b", "m", ""], "expected"),
        (["1", "1", 1.0, "b", "m", "", "7"], "trade_id"),
        ([1.5, "1", 1.0, "b", "m", "", 1], "price"),
    ],
)
def test_a_malformed_trade_names_the_pair_and_row(row: list[Any], why: str) -> None:
    good = PAGE["XXBTZUSD"][0]
    with pytest.raises(TradesPageError, match=f"Trades XBTUSD: trade 1 .*{why}"):
        parse_trades_page({"XXBTZUSD": [good, row], "last": "5"}, "XBTUSD", "XXBTZUSD")


def test_a_missing_pair_or_cursor_is_refused() -> None:
    with pytest.raises(TradesPageError, match="no trade list under 'XXBTZUSD'"):
        parse_trades_page({"XETHZUSD": [], "last": "1"}, "XBTUSD", "XXBTZUSD")
    with pytest.raises(TradesPageError, match="'last'"):
        parse_trades_page({"XXBTZUSD": [], "last": None}, "XBTUSD", "XXBTZUSD")
