"""The pair grid every generator rounds through: exact Decimal ticks and lots."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, localcontext
from decimal import Decimal as D

import pytest

from aether.emulator.market.generator import MarketConfigError, PairGrid

GRID = PairGrid("XBT/USD", D("0.1"), 8)


def test_prices_round_to_the_tick() -> None:
    assert GRID.ticks(D("6603.84")) == 66038
    assert GRID.ticks(D("6603.85")) == 66038  # half to even
    with localcontext(rounding=ROUND_HALF_UP):  # whatever another library set globally
        assert GRID.ticks(D("6603.85")) == 66038
    assert GRID.price(66038) == D("6603.8")
    assert GRID.float_price(6603.86) == D("6603.9")
    assert GRID.float_price(0.01) == D("0.1")  # never below one tick


def test_quantities_round_down_to_the_lot() -> None:
    assert GRID.lot == D("0.00000001")
    assert GRID.lots(D("1.123456789")) == 112345678
    assert GRID.quantity(112345678) == D("1.12345678")
    assert GRID.quantity(5).as_tuple().exponent == -8
    assert GRID.float_lots(0.000000019) == 1
    assert GRID.float_lots(0.0) == 1  # never below one lot


@pytest.mark.parametrize(
    ("tick", "decimals", "field"),
    [(D(0), 8, "tick_size"), (D("-0.1"), 8, "tick_size"), (D("0.1"), -1, "lot_decimals")],
)
def test_a_bad_grid_names_the_field(tick: D, decimals: int, field: str) -> None:
    with pytest.raises(MarketConfigError) as caught:
        PairGrid("XBT/USD", tick, decimals)
    assert caught.value.field == field
