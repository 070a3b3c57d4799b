from __future__ import annotations

from decimal import Decimal as D

import pytest

from aether.risk.exits import Distance, ExitConfig, ExitKind, levels_for_entry, on_price
from tests.unit.domain.conftest import make_instrument

XBT = make_instrument()
PCT = ExitConfig(stop_loss=Distance(percent=D("0.02")), take_profit=Distance(percent=D("0.04")))


def test_percent_levels_round_to_the_tick_without_widening_risk() -> None:
    levels = levels_for_entry(XBT, PCT, D("100.05"))
    assert levels.stop_loss == D("98.1")  # 98.049 rounded up
    assert levels.take_profit == D("104.0")  # 104.052 rounded down
    assert levels.trailing is None


def test_atr_levels_and_validation() -> None:
    config = ExitConfig(Distance(atr_multiple=D(2)), Distance(atr_multiple=D(3)))
    levels = levels_for_entry(XBT, config, D(1000), atr=D(25))
    assert (levels.stop_loss, levels.take_profit) == (D(950), D(1075))
    with pytest.raises(ValueError, match="ATR"):
        levels_for_entry(XBT, config, D(1000))
    with pytest.raises(ValueError, match="exactly one"):
        Distance(percent=D("0.1"), atr_multiple=D(1))
    with pytest.raises(ValueError, match="positive"):
        Distance(percent=D(0))
    with pytest.raises(ValueError, match="stop"):
        levels_for_entry(XBT, ExitConfig(Distance(percent=D(2)), Distance(percent=D(1))), D(10))


def test_exits_fire_on_the_price_range_stop_first() -> None:
    levels = levels_for_entry(XBT, PCT, D(100))
    assert on_price(XBT, levels, D(99), D(101))[1] is None
    assert on_price(XBT, levels, D(98), D(98))[1] is ExitKind.STOP_LOSS
    assert on_price(XBT, levels, D(99), D(104))[1] is ExitKind.TAKE_PROFIT
    # A bar that spans both: the cautious reading is that the stop came first.
    assert on_price(XBT, levels, D(97), D(105))[1] is ExitKind.STOP_LOSS


def test_trailing_stop_ratchets_up_and_fires() -> None:
    config = ExitConfig(
        Distance(percent=D("0.10")),
        Distance(percent=D("0.50")),
        trailing=Distance(percent=D("0.05")),
    )
    levels = levels_for_entry(XBT, config, D(100))
    assert levels.trailing == D(95)
    levels, fired = on_price(XBT, levels, D(100), D(120))
    assert fired is None
    assert levels.trailing == D(115)
    levels, fired = on_price(XBT, levels, D(116), D(118))  # lower high: no change
    assert levels.trailing == D(115)
    _, fired = on_price(XBT, levels, D("114.9"), D(117))
    assert fired is ExitKind.TRAILING_STOP
