from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from aether.engine.portfolio import NS_PER_DAY, InsufficientFundsError, Portfolio
from tests.unit.domain.conftest import make_instrument

XBT = make_instrument()
INSTRUMENTS = {"XBTUSD": XBT}


def fill(
    trade: str,
    side: Side,
    qty: str,
    price: str,
    fee: str,
    *,
    order: str = "o1",
    fee_currency: str = "USD",
    ts: int = 0,
) -> Fill:
    return Fill(
        trade, order, "XBTUSD", side, D(qty), D(price), D(fee), fee_currency, Liquidity.TAKER, ts
    )


def test_hand_computed_round_trip_with_fees_and_partial_fills() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    p.apply_fill(fill("t1", Side.BUY, "1", "100", "0.26"))
    p.apply_fill(fill("t2", Side.BUY, "0.5", "110", "0.143", order="o2"))  # partial of 1
    p.apply_fill(fill("t3", Side.BUY, "0.5", "110", "0.143", order="o2"))
    p.apply_fill(fill("t4", Side.SELL, "1.5", "120", "0.468", order="o3"))
    # FIFO: 1 @ 100 and 0.5 @ 110 leave; 0.5 @ 110 stays.
    assert p.realized_pnl == D("1") * (120 - 100) + D("0.5") * (120 - 110)  # 25, gross
    assert p.fees_paid_usd == D("1.014")
    assert p.cash == D(1000) - D("100.26") - D("55.143") - D("55.143") + D("180") - D("0.468")
    assert p.cash == D("968.986")
    position = p.position("XBTUSD")
    assert (position.quantity, position.cost, position.average_price) == (D("0.5"), D(55), D(110))
    assert p.equity() == D("968.986") + D("0.5") * 120
    assert p.cash + p.open_cost() + p.fees_paid_usd == p.starting_cash + p.realized_pnl


def test_fee_in_base_reduces_the_quantity_received() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    p.apply_fill(fill("t1", Side.BUY, "1", "100", "0.004", fee_currency="XBT"))
    assert p.total("XBT") == D("0.996")
    assert p.cash == D(900)
    assert p.fees_paid_usd == D("0.400")
    assert p.cash + p.open_cost() + p.fees_paid_usd == p.starting_cash + p.realized_pnl


def test_unsupported_fee_currency_is_refused() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    with pytest.raises(ValueError, match="fee currency"):
        p.apply_fill(fill("t1", Side.BUY, "1", "100", "1", fee_currency="EUR"))


def test_replayed_trade_id_is_booked_once() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    assert p.apply_fill(fill("t1", Side.BUY, "1", "100", "0"))
    assert not p.apply_fill(fill("t1", Side.BUY, "1", "100", "0"))
    assert p.cash == D(900)


def test_two_orders_cannot_spend_the_same_dollar() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    held = p.reserve("a", Side.BUY, "XBTUSD", D(6), D(100), D("0.004"))
    assert held == D("602.400")
    assert p.available("USD") == D("397.600")
    with pytest.raises(InsufficientFundsError, match=r"only 397\.600"):
        p.reserve("b", Side.BUY, "XBTUSD", D(4), D(100), D("0.004"))
    p.reserve("c", Side.BUY, "XBTUSD", D(3), D(100), D("0.004"))
    p.release("a")
    p.release("a")  # idempotent
    assert p.reserved("USD") == D("301.200")


def test_reservation_shrinks_with_fills_and_frees_the_rest_on_release() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    p.reserve("o1", Side.BUY, "XBTUSD", D(2), D(100), D("0.01"))  # 202 held
    p.apply_fill(fill("t1", Side.BUY, "1", "95", "0.95"))  # better price than reserved
    assert p.reserved("USD") == D(101)
    assert p.reserved("USD") <= p.cash
    p.release("o1")
    assert p.reserved("USD") == 0
    p.reserve("s1", Side.SELL, "XBTUSD", D("0.6"), D(100), D(0))
    assert p.available("XBT") == D("0.4")
    with pytest.raises(InsufficientFundsError):
        p.reserve("s2", Side.SELL, "XBTUSD", D("0.5"), D(100), D(0))


def test_overspending_fill_is_refused() -> None:
    p = Portfolio(INSTRUMENTS, D(100))
    with pytest.raises(InsufficientFundsError, match="needs 101"):
        p.apply_fill(fill("t1", Side.BUY, "1", "100", "1"))
    with pytest.raises(InsufficientFundsError):
        p.apply_fill(fill("t2", Side.SELL, "1", "100", "0"))
    assert p.cash == D(100)


def test_drawdowns_track_high_water_mark_and_reset_daily() -> None:
    p = Portfolio(INSTRUMENTS, D(1000))
    p.apply_fill(fill("t1", Side.BUY, "1", "500", "0"))
    p.mark("XBTUSD", D(600))
    p.record_equity(0)  # 1100, new high
    p.mark("XBTUSD", D(390))
    p.record_equity(1)  # 890
    assert p.drawdown() == D(210) / D(1100)
    assert p.daily_drawdown() == D(210) / D(1100)
    p.record_equity(NS_PER_DAY)  # next day: the day starts at 890
    assert p.daily_drawdown() == 0
    assert p.max_drawdown == D(210) / D(1100)
    assert [pt.equity for pt in p.equity_curve] == [D(1100), D(890), D(890)]


trades = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.decimals(min_value=D("0.001"), max_value=D(3), places=3),
        st.decimals(min_value=D(1), max_value=D(1000), places=1),
        st.sampled_from([D(0), D("0.0016"), D("0.0026"), D("0.004")]),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(trades)
def test_accounting_invariants_hold_for_any_sequence(ops: list[tuple[Side, D, D, D, bool]]) -> None:
    p = Portfolio(INSTRUMENTS, D(10_000))
    for n, (side, qty, price, rate, fee_in_base) in enumerate(ops):
        order = f"o{n}"
        if side is Side.SELL:
            qty = min(qty, p.available("XBT"))
            if qty <= 0:
                continue
        try:
            p.reserve(order, side, "XBTUSD", qty, price, rate)
        except InsufficientFundsError:
            continue
        in_base = fee_in_base and side is Side.BUY
        fee = (qty * rate) if in_base else (qty * price * rate)
        p.apply_fill(
            fill(
                f"t{n}",
                side,
                str(qty),
                str(price),
                str(fee),
                order=order,
                fee_currency="XBT" if in_base else "USD",
                ts=n,
            )
        )
        p.release(order)
        p.record_equity(n)
        assert p.cash + p.open_cost() + p.fees_paid_usd == p.starting_cash + p.realized_pnl
        assert all(b.total >= 0 and b.available >= 0 for b in p.balances().values())
        assert all(0 <= b.reserved <= b.total for b in p.balances().values())
        assert p.position("XBTUSD").quantity == p.total("XBT")
        assert 0 <= p.drawdown() <= 1
