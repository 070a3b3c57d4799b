"""What a caller asks the order service for: a new order, before any rule is checked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.instruments import Instrument, InstrumentRuleError
from aether.domain.money import InvalidValueError
from aether.domain.orders import Order, OrderRuleError, OrderType, Side, TimeInForce
from aether.oms.errors import OrderRefused

_NS = 1_000_000_000
#: Domain rule codes and the request field each is about.
_FIELD_OF_RULE = {
    "positive_quantity": "quantity",
    "lot_size": "quantity",
    "min_quantity": "quantity",
    "min_cost": "quantity",
    "tick_size": "price",
    "positive_price": "price",
    "spot_usd": "symbol",
}


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order request as typed by the engine or a client; ``cl_ord_id`` is chosen when
    absent (a UUID)."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at_s: int | None = None
    post_only: bool = False
    cl_ord_id: str | None = None


def build_order(new: NewOrder, instrument: Instrument) -> Order:
    """The domain order for ``new``, or OrderRefused naming the rule and the field."""
    try:
        return Order.create(
            instrument,
            cl_ord_id=new.cl_ord_id or str(uuid.uuid4()),
            side=new.side,
            type=new.type,
            quantity=new.quantity,
            price=new.price,
            trigger_price=new.trigger_price,
            time_in_force=new.time_in_force,
            expire_at_ns=None if new.expire_at_s is None else new.expire_at_s * _NS,
            post_only=new.post_only,
        )
    except (OrderRuleError, InstrumentRuleError) as exc:
        field = _FIELD_OF_RULE.get(exc.rule, exc.rule)
        if field == "price" and str(exc).startswith("trigger_price"):
            field = "trigger_price"
        raise OrderRefused(str(exc), rules=(exc.rule,), field=field) from exc
    except InvalidValueError as exc:
        raise OrderRefused(str(exc), rules=("number",), field=exc.field) from exc
