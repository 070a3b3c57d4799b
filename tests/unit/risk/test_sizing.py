from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aether.risk.sizing import Costs, fixed_fraction, volatility_target
from tests.unit.domain.conftest import make_instrument

XBT = make_instrument()
COSTS = Costs(fee_rate=D("0.0026"), slippage_bps=D(5))


def test_fraction_one_spends_all_cash_net_of_fees_and_slippage() -> None:
    qty = fixed_fraction(XBT, available_cash=D(10_000), price=D(50_000), fraction=D(1), costs=COSTS)
    # 50,000 x 1.0005 (slippage) x 1.0026 (fee) = 50,155.065; 10,000 / that = 0.199381654...
    assert qty == D("0.19938165")  # floored to the lot
    spent = qty * COSTS.effective_price(D(50_000))
    assert spent <= D(10_000)
    assert D(10_000) - spent < D(50_000) * D("0.00000001") * 2  # less than two lots left over


def test_fraction_respects_a_notional_cap_and_minimums() -> None:
    capped = fixed_fraction(
        XBT,
        available_cash=D(10_000),
        price=D(50_000),
        fraction=D(1),
        costs=COSTS,
        max_notional=D(1_000),
    )
    assert capped * D(50_000) <= D(1_000)
    tiny = fixed_fraction(XBT, available_cash=D(3), price=D(50_000), fraction=D(1), costs=COSTS)
    assert tiny == 0  # below the minimum quantity: not an order at all
    with pytest.raises(ValueError, match="fraction"):
        fixed_fraction(XBT, available_cash=D(1), price=D(1), fraction=D("1.5"), costs=COSTS)


def test_volatility_target_risks_the_budget_between_entry_and_stop() -> None:
    qty = volatility_target(
        XBT,
        equity=D(10_000),
        available_cash=D(10_000),
        price=D(50_000),
        stop_price=D(49_000),
        risk_fraction=D("0.01"),
        costs=Costs(D(0)),
    )
    assert qty == D("0.1")  # 100 USD of risk over a 1,000 USD distance
    with pytest.raises(ValueError, match="stop below"):
        volatility_target(
            XBT,
            equity=D(1),
            available_cash=D(1),
            price=D(10),
            stop_price=D(11),
            risk_fraction=D("0.01"),
            costs=COSTS,
        )


@settings(max_examples=300, deadline=None)
@given(
    equity=st.decimals(min_value=D(100), max_value=D(1_000_000), places=2),
    cash_share=st.decimals(min_value=D("0.01"), max_value=D(1), places=2),
    price=st.decimals(min_value=D(10), max_value=D(100_000), places=1),
    stop_pct=st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
    risk=st.decimals(min_value=D("0.001"), max_value=D("0.1"), places=3),
    fee=st.sampled_from([D(0), D("0.0016"), D("0.0026"), D("0.004")]),
    slip=st.sampled_from([D(0), D(5), D(20)]),
    cap=st.none() | st.decimals(min_value=D(10), max_value=D(100_000), places=2),
)
def test_sizing_never_overspends_or_overrisks(
    equity: D, cash_share: D, price: D, stop_pct: D, risk: D, fee: D, slip: D, cap: D | None
) -> None:
    costs = Costs(fee, slip)
    cash = equity * cash_share
    stop = (price * (1 - stop_pct)).quantize(D("0.1"))
    if stop <= 0 or stop >= price:
        return
    qty = volatility_target(
        XBT,
        equity=equity,
        available_cash=cash,
        price=price,
        stop_price=stop,
        risk_fraction=risk,
        costs=costs,
        max_notional=cap,
    )
    spent = qty * costs.effective_price(price)
    assert spent <= cash
    if cap is not None:
        assert spent <= cap
    loss_at_stop = spent - qty * stop * (1 - slip / 10_000) * (1 - fee)
    assert loss_at_stop <= equity * risk
    if qty:
        assert qty >= XBT.min_quantity
        assert qty % XBT.lot_size == 0
