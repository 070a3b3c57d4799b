"""The order service's wire forms: Kraken's AddOrder fields and the order-event subjects."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aether.bus.subjects import SubjectError, order_subject
from aether.domain.orders import Order, OrderType, Side, TimeInForce
from aether.oms.kraken_venue import add_order_params
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

XBT = load_instrument_snapshot()["XBTUSD"]


def test_a_stop_limit_sends_its_trigger_as_price_and_its_limit_as_price2() -> None:
    order = Order.create(
        XBT,
        cl_ord_id="s-1",
        side=Side.SELL,
        type=OrderType.STOP_LOSS_LIMIT,
        quantity="0.00100000",
        price="49000.0",
        trigger_price="49500.0",
        time_in_force=TimeInForce.GTD,
        expire_at_ns=1_800_000_000_000_000_000,
    )
    params = add_order_params(order.request)
    assert params == {
        "pair": "XBTUSD", "type": "sell", "ordertype": "stop-loss-limit",
        "volume": "0.00100000", "price": "49500.0", "price2": "49000.0",
        "timeinforce": "GTD", "expiretm": 1_800_000_000, "cl_ord_id": "s-1",
    }  # fmt: skip


def test_a_post_only_limit_says_so_and_decimals_stay_plain() -> None:
    order = Order.create(
        XBT,
        cl_ord_id="p-1",
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=Decimal("1E-3"),
        price="30000.0",
        post_only=True,
    )
    params = add_order_params(order.request)
    assert params["volume"] == "0.001"
    assert params["oflags"] == "post"


def test_order_subjects_take_an_account_uuid_and_a_plain_kind() -> None:
    account = "0b7f3c1e-5d2a-4c8e-9f00-1234567890ab"
    assert order_subject(account, "fill") == f"orders.{account}.fill"
    with pytest.raises(SubjectError):
        order_subject("acc.*", "fill")
    with pytest.raises(SubjectError):
        order_subject(account, "fill.>")
