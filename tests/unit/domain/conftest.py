from __future__ import annotations

from decimal import Decimal

import pytest

from aether.domain.instruments import FeeSchedule, Instrument


def make_instrument(symbol: str = "XBTUSD", **overrides: object) -> Instrument:
    base = {
        "symbol": symbol,
        "base": "XBT",
        "quote": "USD",
        "tick_size": Decimal("0.1"),
        "lot_size": Decimal("0.00000001"),
        "min_quantity": Decimal("0.0001"),
        "min_cost": Decimal("0.5"),
        "fees": FeeSchedule.flat(Decimal("0.0025"), Decimal("0.0040")),
    }
    base.update(overrides)
    return Instrument(**base)  # type: ignore[arg-type]


@pytest.fixture
def xbtusd() -> Instrument:
    return make_instrument()
