"""Orders: what was asked (immutable) and where it stands (an explicit state machine).

Construct with :meth:`Order.create`, which checks every rule of the instrument and of the
order type and refuses with a typed error naming the rule. Status changes only through the
transition methods; an illegal change raises :class:`IllegalTransitionError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aether.domain.instruments import Instrument, InstrumentRuleError
from aether.domain.money import ZERO
from aether.domain.universe import require_spot_usd


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_LOSS = "stop-loss"
    STOP_LOSS_LIMIT = "stop-loss-limit"
    TAKE_PROFIT = "take-profit"
    TAKE_PROFIT_LIMIT = "take-profit-limit"
    TRAILING_STOP = "trailing-stop"


#: Types that rest with a limit price.
PRICED_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
#: Types that wait for a trigger price.
TRIGGERED_TYPES = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_open(self) -> bool:
        """Working at (or on its way to) the venue: funds stay reserved."""
        return not self.is_terminal


TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

#: Every legal status change. Anything else is a bug or a venue message out of order.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset(
        {OrderStatus.SUBMITTED, OrderStatus.REJECTED, OrderStatus.CANCELLED}
    ),
    OrderStatus.SUBMITTED: frozenset(
        {OrderStatus.ACCEPTED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.ACCEPTED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}


class IllegalTransitionError(RuntimeError):
    """A status change the state machine does not allow."""

    def __init__(self, cl_ord_id: str, current: OrderStatus, wanted: OrderStatus) -> None:
        self.cl_ord_id = cl_ord_id
        self.current = current
        self.wanted = wanted
        super().__init__(f"order {cl_ord_id}: illegal transition {current} -> {wanted}")


class OrderRuleError(ValueError):
    """An order that may not be formed; ``rule`` names the broken rule."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


# Kraken accepts a UUID or a free-text id of up to 18 characters as cl_ord_id.
_CL_ORD_ID = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z0-9_-]{1,18})$"
)


@dataclass(frozen=True, slots=True)
class OrderTags:
    """Why an order exists: the strategy that wanted it and its reason (entry, stop, ...)."""

    strategy: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The immutable part of an order: everything that was asked of the venue."""

    cl_ord_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trailing_offset: Decimal | None
    time_in_force: TimeInForce
    expire_at_ns: int | None
    post_only: bool
    reduce_only: bool
    tags: OrderTags


class Order:
    """One order: its request and its live state (status, filled quantity, average price)."""

    __slots__ = ("avg_fill_price", "filled_quantity", "instrument", "reason", "request", "status")

    def __init__(self, request: OrderRequest, instrument: Instrument) -> None:
        self.request = request
        self.instrument = instrument
        self.status = OrderStatus.NEW
        self.filled_quantity = ZERO
        self.avg_fill_price: Decimal | None = None
        self.reason: str | None = None

    @classmethod
    def create(
        cls,
        instrument: Instrument,
        *,
        cl_ord_id: str,
        side: Side,
        type: OrderType,
        quantity: Decimal | int | str,
        price: Decimal | int | str | None = None,
        trigger_price: Decimal | int | str | None = None,
        trailing_offset: Decimal | int | str | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_at_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        tags: OrderTags = OrderTags(),
        reference_price: Decimal | None = None,
    ) -> Order:
        """A validated NEW order. ``reference_price`` (e.g. the last trade) lets a market
        order be checked against the minimum cost; priced orders use their own price."""
        require_spot_usd(instrument)
        if not _CL_ORD_ID.match(cl_ord_id):
            raise OrderRuleError(
                "cl_ord_id", f"cl_ord_id {cl_ord_id!r} must be a UUID or 1-18 of [A-Za-z0-9_-]"
            )
        qty = instrument.check_quantity(quantity)
        limit = _only_for(
            instrument,
            type,
            price,
            field="price",
            noun="limit price",
            wanted=type in PRICED_TYPES,
        )
        trigger = _only_for(
            instrument,
            type,
            trigger_price,
            field="trigger_price",
            noun="trigger price",
            wanted=type in TRIGGERED_TYPES,
        )
        offset = _only_for(
            instrument,
            type,
            trailing_offset,
            field="trailing_offset",
            noun="trailing offset",
            wanted=type is OrderType.TRAILING_STOP,
        )
        if (time_in_force is TimeInForce.GTD) != (expire_at_ns is not None):
            raise OrderRuleError("expire_at", "expire_at is required for GTD and only for GTD")
        if post_only and type is not OrderType.LIMIT:
            raise OrderRuleError("post_only", "post-only applies to limit orders only")
        if post_only and time_in_force is TimeInForce.IOC:
            raise OrderRuleError("post_only", "a post-only order cannot be immediate-or-cancel")
        cost_price = limit or trigger or reference_price
        if cost_price is not None:
            instrument.check_cost(qty, cost_price)
        request = OrderRequest(
            cl_ord_id,
            instrument.symbol,
            side,
            type,
            qty,
            limit,
            trigger,
            offset,
            time_in_force,
            expire_at_ns,
            post_only,
            reduce_only,
            tags,
        )
        return cls(request, instrument)

    # --- state --------------------------------------------------------------------------
    @property
    def cl_ord_id(self) -> str:
        return self.request.cl_ord_id

    @property
    def remaining(self) -> Decimal:
        return self.request.quantity - self.filled_quantity

    def _move(self, wanted: OrderStatus) -> None:
        if wanted not in TRANSITIONS[self.status]:
            raise IllegalTransitionError(self.cl_ord_id, self.status, wanted)
        self.status = wanted

    def submit(self) -> None:
        self._move(OrderStatus.SUBMITTED)

    def accept(self) -> None:
        self._move(OrderStatus.ACCEPTED)

    def reject(self, reason: str) -> None:
        self._move(OrderStatus.REJECTED)
        self.reason = reason

    def cancel(self, reason: str = "cancelled") -> None:
        self._move(OrderStatus.CANCELLED)
        self.reason = reason

    def expire(self) -> None:
        self._move(OrderStatus.EXPIRED)

    def apply_fill(self, quantity: Decimal, price: Decimal) -> None:
        """Record an execution; refuses overfills and fills on orders not accepted."""
        if OrderStatus.FILLED not in TRANSITIONS[self.status]:
            raise IllegalTransitionError(self.cl_ord_id, self.status, OrderStatus.FILLED)
        if quantity <= ZERO:
            raise OrderRuleError("fill_quantity", f"fill quantity must be positive: {quantity}")
        if quantity > self.remaining:
            raise OrderRuleError(
                "overfill",
                f"order {self.cl_ord_id}: fill {quantity} exceeds remaining {self.remaining}",
            )
        done = quantity == self.remaining
        self._move(OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED)
        previous = self.filled_quantity
        self.filled_quantity = previous + quantity
        paid = (self.avg_fill_price or ZERO) * previous + price * quantity
        self.avg_fill_price = paid / self.filled_quantity

    def __repr__(self) -> str:
        r = self.request
        return (
            f"Order({r.cl_ord_id} {r.side} {r.quantity} {r.symbol} {r.type} "
            f"status={self.status} filled={self.filled_quantity})"
        )


def _only_for(
    instrument: Instrument,
    kind: OrderType,
    value: Decimal | int | str | None,
    *,
    field: str,
    noun: str,
    wanted: bool,
) -> Decimal | None:
    """``value`` on the tick grid when this order type needs it; refused when it does not."""
    if not wanted:
        if value is not None:
            raise OrderRuleError(field, f"a {kind} order takes no {noun}")
        return None
    if value is None:
        raise OrderRuleError(field, f"a {kind} order needs a {noun}")
    return _on_grid(instrument, value, field)


def _on_grid(instrument: Instrument, value: Decimal | int | str, field: str) -> Decimal:
    try:
        return instrument.check_price(value, field)
    except InstrumentRuleError as exc:
        raise OrderRuleError(exc.rule, str(exc)) from exc
