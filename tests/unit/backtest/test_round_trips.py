from __future__ import annotations

from decimal import Decimal as D

import pytest

from aether.backtest.round_trips import round_trips
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from tests.unit.domain.conftest import make_instrument

NS = 1_000_000_000
INSTRUMENTS = {"XBTUSD": make_instrument()}


def fill(n: int, order: str, side: Side, qty: str, price: str, fee: str) -> Fill:
    return Fill(
        f"T{n}", order, "XBTUSD", side, D(qty), D(price), D(fee), "USD", Liquidity.TAKER, n * NS
    )


def test_partial_fills_make_one_round_trip_from_flat_to_flat() -> None:
    fills = [
        fill(1, "a", Side.BUY, "0.5", "100", "0.2"),
        fill(2, "a", Side.BUY, "0.5", "102", "0.204"),
        fill(3, "b", Side.SELL, "0.25", "110", "0.11"),
        fill(4, "b", Side.SELL, "0.75", "111", "0.333"),
        fill(5, "c", Side.BUY, "1", "120", "0.48"),  # still open: not a round trip
    ]
    (trip,) = round_trips(fills, {"a": "signal", "b": "stop_loss"}, INSTRUMENTS)
    assert (trip.entry_ts, trip.exit_ts, trip.quantity) == (1, 4, D("1.0"))
    assert trip.entry_price == D("101.0")
    assert trip.exit_price == D("110.8")
    assert trip.fees == D("0.847")
    assert trip.pnl == D("110.75") - D("101.0") - D("0.847")
    assert trip.exit_reason == "stop_loss"
    assert trip.return_fraction == pytest.approx(float(trip.pnl / D("101")))


def test_a_sell_without_a_position_is_refused() -> None:
    with pytest.raises(ValueError, match="T1: a sell without a position"):
        round_trips([fill(1, "a", Side.SELL, "1", "100", "0")], {}, INSTRUMENTS)


def test_prices_printed_off_todays_tick_are_reported_exactly_as_filled() -> None:
    # Kraken's XBTUSD opened at 203.59999 on 2013-11-01 07:00 and at 513.4088 on 2013-11-20
    # 07:00; the tick of today's snapshot (0.1) must not move them to 203.6 and 513.4.
    fills = [
        fill(1, "a", Side.BUY, "48.98854574", "203.59999", "25.93257530"),
        fill(2, "b", Side.SELL, "48.98854574", "513.4088", "65.39299125"),
    ]
    (trip,) = round_trips(fills, {"b": "signal"}, INSTRUMENTS)
    assert (str(trip.entry_price), str(trip.exit_price)) == ("203.59999", "513.4088")


def test_averages_of_several_fills_keep_the_finest_decimal_place_of_their_prices() -> None:
    fills = [
        fill(1, "a", Side.BUY, "1", "100.05", "0"),
        fill(2, "a", Side.BUY, "1", "100.1", "0"),
        fill(3, "b", Side.SELL, "2", "110.12345", "0"),
    ]
    (trip,) = round_trips(fills, {}, INSTRUMENTS)
    assert trip.entry_price == D("100.08")  # 100.075 half-even to 0.01, the finer of the two
    assert trip.exit_price == D("110.12345")
