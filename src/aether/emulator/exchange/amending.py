"""AmendOrder's rules: which fields an open order accepts, what its new quantity and prices
are, and how ``descr.order`` reads afterwards. Pure: the exchange applies the plan (holds,
queue priority, re-triggering) in :meth:`aether.emulator.exchange.matching.Exchange.amend`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, is_multiple
from aether.emulator.exchange.errors import (
    COST_MINIMUM_NOT_MET,
    ORDER_MINIMUM_NOT_MET,
    TICK_SIZE_CHECK_FAILED,
    ExchangeError,
    invalid_argument,
)
from aether.emulator.exchange.orders import LIMIT_AFTER_TRIGGER, Order, OrderInfo, OrderType

__all__ = ["AmendPlan", "AmendResult", "describe", "plan_amend"]


@dataclass(frozen=True, slots=True)
class AmendResult:
    """AmendOrder's outcome: the order after the amend, and whether it kept its place in
    the queue (it did unless its limit price moved or its remaining quantity grew)."""

    order: OrderInfo
    priority_kept: bool


@dataclass(frozen=True, slots=True)
class AmendPlan:
    """An accepted amend. ``cancels_rest``: the new quantity is at or below what already
    executed, so the rest of the order is cancelled and nothing else changes. Otherwise the
    order's new total ``volume``, ``limit`` (resting price), ``after`` (limit once
    triggered) and ``basis`` (the price its hold is computed at)."""

    cancels_rest: bool
    volume: Decimal
    limit: Decimal | None
    after: Decimal | None
    basis: Decimal | None


def plan_amend(
    order: Order,
    instrument: Instrument,
    *,
    order_qty: Decimal | None,
    limit_price: Decimal | None,
    trigger_price: Decimal | None,
) -> AmendPlan:
    """Check an amend of the open ``order``; raises ExchangeError with Kraken's string."""
    if order_qty is None and limit_price is None and trigger_price is None:
        raise invalid_argument("order_qty")
    waiting = order.waiting_for_trigger
    trailing = order.trail is not None
    if limit_price is not None and (
        trailing or order.ordertype not in (OrderType.LIMIT, *LIMIT_AFTER_TRIGGER)
    ):
        raise invalid_argument("limit_price")
    if trigger_price is not None and (trailing or not waiting):
        raise invalid_argument("trigger_price")
    for name, price in (("limit_price", limit_price), ("trigger_price", trigger_price)):
        if price is not None and (not price.is_finite() or price <= ZERO):
            raise invalid_argument(name)
        if price is not None and not is_multiple(price, instrument.tick_size):
            raise ExchangeError(TICK_SIZE_CHECK_FAILED)
    volume = order.volume
    if order_qty is not None:
        if not order_qty.is_finite() or order_qty <= ZERO:
            raise invalid_argument("order_qty")
        if not is_multiple(order_qty, instrument.lot_size):
            raise invalid_argument("order_qty")
        if order_qty <= order.vol_exec:
            return AmendPlan(True, order.volume, None, None, None)
        volume = order_qty

    limit, after, stop = order.limit_price, order.limit_after_trigger, order.stop_price
    if limit_price is not None:
        if waiting:
            after = limit_price
        else:
            limit = limit_price
    if trigger_price is not None:
        stop = trigger_price
    if volume < instrument.min_quantity:
        raise ExchangeError(ORDER_MINIMUM_NOT_MET)
    basis = (after if after is not None else stop) if waiting else limit
    if basis is not None and volume * basis < instrument.min_cost:
        raise ExchangeError(COST_MINIMUM_NOT_MET)
    return AmendPlan(False, volume, limit, after, basis)


def describe(order: Order, lot_size: Decimal) -> str:
    """``descr.order`` after an amend, in AddOrder's wording."""
    head = f"{order.side} {order.volume.quantize(lot_size, ROUND_HALF_EVEN)} {order.pair} @ "
    words = order.ordertype.value.removesuffix("-limit").replace("-", " ")
    text = f"{head}{words} {order.descr_price}"
    if order.ordertype in LIMIT_AFTER_TRIGGER:
        return f"{text} -> limit {order.descr_price2}"
    return text
