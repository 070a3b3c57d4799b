from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aether.domain.instruments import Instrument
from aether.domain.orders import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransitionError,
    Order,
    OrderRuleError,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from aether.domain.universe import NotSpotUsdError
from tests.unit.domain.conftest import make_instrument

INSTRUMENT = make_instrument()


def _order(**kwargs: object) -> Order:
    args: dict[str, object] = {
        "cl_ord_id": "t-1",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "quantity": "0.01",
        "price": "50000.0",
    }
    args.update(kwargs)
    return Order.create(INSTRUMENT, **args)  # type: ignore[arg-type]


def test_valid_orders_of_every_type() -> None:
    assert _order().request.price == Decimal("50000.0")
    assert _order(type=OrderType.MARKET, price=None).request.price is None
    stop = _order(type=OrderType.STOP_LOSS, price=None, trigger_price="45000.0", side=Side.SELL)
    assert stop.request.trigger_price == Decimal("45000.0")
    _order(type=OrderType.STOP_LOSS_LIMIT, trigger_price="45000.0", price="44900.0")
    _order(type=OrderType.TAKE_PROFIT, price=None, trigger_price="60000.0")
    _order(type=OrderType.TAKE_PROFIT_LIMIT, trigger_price="60000.0", price="60100.0")
    _order(type=OrderType.TRAILING_STOP, price=None, trailing_offset="500.0")
    _order(time_in_force=TimeInForce.GTD, expire_at_ns=1_700_000_000_000_000_000)
    _order(post_only=True)
    assert _order(cl_ord_id="0d4f6b6e-3a7b-4f8e-9c1d-2b3a4c5d6e7f").cl_ord_id.startswith("0d4f")


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"price": "50000.05"}, "tick_size"),
        ({"quantity": "0.00001"}, "min_quantity"),
        ({"quantity": "0.000000001"}, "lot_size"),
        ({"quantity": "-0.01"}, "positive_quantity"),
        ({"quantity": "0.0001", "price": "100.0"}, "min_cost"),
        ({"price": None}, "price"),
        ({"type": OrderType.MARKET}, "price"),
        ({"type": OrderType.STOP_LOSS, "price": None}, "trigger_price"),
        ({"trigger_price": "1.0"}, "trigger_price"),
        ({"type": OrderType.TRAILING_STOP, "price": None}, "trailing_offset"),
        ({"time_in_force": TimeInForce.GTD}, "expire_at"),
        ({"expire_at_ns": 1}, "expire_at"),
        ({"type": OrderType.MARKET, "price": None, "post_only": True}, "post_only"),
        ({"post_only": True, "time_in_force": TimeInForce.IOC}, "post_only"),
        ({"cl_ord_id": "has spaces in it"}, "cl_ord_id"),
        ({"cl_ord_id": "x" * 19}, "cl_ord_id"),
    ],
)
def test_orders_breaking_a_rule_name_it(kwargs: dict[str, object], rule: str) -> None:
    with pytest.raises((OrderRuleError, ValueError)) as caught:
        _order(**kwargs)
    assert getattr(caught.value, "rule", None) == rule, caught.value


@pytest.mark.parametrize("value", ["NaN", "Infinity", float("nan")])
def test_nan_prices_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(ValueError, match="price"):
        _order(price=value)


def test_market_order_checks_min_cost_against_a_reference_price() -> None:
    with pytest.raises(Exception, match="min") as caught:
        _order(type=OrderType.MARKET, price=None, quantity="0.0001", reference_price=Decimal(100))
    assert getattr(caught.value, "rule", None) == "min_cost"


def test_orders_are_formed_only_for_spot_usd_pairs() -> None:
    eur = make_instrument("XBTEUR", quote="EUR")
    with pytest.raises(NotSpotUsdError):
        Order.create(eur, cl_ord_id="x", side=Side.BUY, type=OrderType.MARKET, quantity="0.01")


def test_lifecycle_and_fills() -> None:
    order = _order(quantity="0.03")
    order.submit()
    order.accept()
    order.apply_fill(Decimal("0.01"), Decimal("50000.0"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order.apply_fill(Decimal("0.02"), Decimal("49000.0"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal("0.03")
    assert order.avg_fill_price == Decimal("49333.33333333333333333333333")
    with pytest.raises(IllegalTransitionError):
        order.cancel()


def test_overfill_and_fill_before_acceptance_are_refused() -> None:
    order = _order(quantity="0.01")
    with pytest.raises(IllegalTransitionError):
        order.apply_fill(Decimal("0.01"), Decimal("50000.0"))
    order.submit()
    order.accept()
    with pytest.raises(OrderRuleError) as caught:
        order.apply_fill(Decimal("0.02"), Decimal("50000.0"))
    assert caught.value.rule == "overfill"
    assert order.filled_quantity == 0


ACTIONS = ["submit", "accept", "reject", "cancel", "expire", "fill_part", "fill_rest"]


def _target(order: Order, action: str) -> OrderStatus:
    if action == "fill_part":
        return OrderStatus.PARTIALLY_FILLED
    if action == "fill_rest":
        return OrderStatus.FILLED
    return {
        "submit": OrderStatus.SUBMITTED,
        "accept": OrderStatus.ACCEPTED,
        "reject": OrderStatus.REJECTED,
        "cancel": OrderStatus.CANCELLED,
        "expire": OrderStatus.EXPIRED,
    }[action]


def _do(order: Order, action: str) -> None:
    if action == "fill_part":
        order.apply_fill(order.remaining / 2, Decimal("50000.0"))
    elif action == "fill_rest":
        order.apply_fill(order.remaining, Decimal("50000.0"))
    elif action == "reject":
        order.reject("risk")
    else:
        getattr(order, action)()


@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_state_machine_only_ever_takes_legal_transitions(actions: list[str]) -> None:
    order = _order(quantity="0.0128")
    seen = [order.status]
    for action in actions:
        before, wanted = order.status, _target(order, action)
        filled_before = order.filled_quantity
        if wanted in TRANSITIONS[before]:
            _do(order, action)
            assert order.status is wanted
        else:
            with pytest.raises(IllegalTransitionError):
                _do(order, action)
            assert order.status is before
            assert order.filled_quantity == filled_before
        seen.append(order.status)
    # Once terminal, always terminal; fills never exceed the order; statuses follow the table.
    first_terminal = next((i for i, s in enumerate(seen) if s in TERMINAL), None)
    if first_terminal is not None:
        assert len(set(seen[first_terminal:])) == 1
    assert 0 <= order.filled_quantity <= order.request.quantity
    for a, b in itertools.pairwise(seen):
        assert a == b or b in TRANSITIONS[a]


def test_terminal_states_have_no_way_out() -> None:
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()
        assert status.is_terminal
        assert not status.is_open
    assert all(s in TRANSITIONS for s in OrderStatus)


def test_repr_is_readable() -> None:
    assert "t-1 buy 0.01 XBTUSD limit status=new" in repr(_order())


def test_instrument_fixture_is_spot_usd(xbtusd: Instrument) -> None:
    assert xbtusd.quote == "USD"
