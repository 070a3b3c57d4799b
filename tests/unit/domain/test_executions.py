from __future__ import annotations

from decimal import Decimal

import pytest

from aether.domain.executions import Balance, Fill, Liquidity, Position
from aether.domain.money import InvalidValueError
from aether.domain.orders import Side


def _fill(**overrides: object) -> Fill:
    args: dict[str, object] = {
        "trade_id": "T1",
        "cl_ord_id": "c1",
        "symbol": "XBTUSD",
        "side": Side.BUY,
        "quantity": Decimal("0.5"),
        "price": Decimal("40000"),
        "fee": Decimal("80"),
        "fee_currency": "USD",
        "liquidity": Liquidity.TAKER,
        "ts_ns": 1,
    }
    args.update(overrides)
    return Fill(**args)  # type: ignore[arg-type]


def test_fill_notional_and_validation() -> None:
    assert _fill().notional == Decimal("20000.0")
    for field, value in (("quantity", Decimal(0)), ("price", Decimal(-1)), ("fee", Decimal(-1))):
        with pytest.raises(InvalidValueError, match=field):
            _fill(**{field: value})
    with pytest.raises(InvalidValueError, match="price"):
        _fill(price=Decimal("NaN"))
    with pytest.raises(InvalidValueError, match="trade_id"):
        _fill(trade_id="")


def test_balance_and_position_values() -> None:
    assert Balance("USD", Decimal(100), Decimal(30)).available == Decimal(70)
    position = Position("XBTUSD", Decimal("0.5"), Decimal("20000"), Decimal(0))
    assert position.average_price == Decimal(40000)
    assert position.unrealized_pnl(Decimal(42000)) == Decimal(1000)
    assert Position("XBTUSD", Decimal(0), Decimal(0), Decimal(5)).average_price is None
