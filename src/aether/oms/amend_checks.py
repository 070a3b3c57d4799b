"""What an amend is checked against before anything is written: the order is this account's
and open, the new values suit the instrument and the order type, the quantity stays above
what filled, the account is active and not halted, and an amend that adds exposure (more
quantity, or a buy's limit or trigger raised) passes pre-trade risk and the trading state as
a new order of the amended values would, the order's own hold counted as free. Each refusal
is :class:`OrderRefused` (or not found / not open) naming the field.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.accounts.config import stored_config
from aether.accounts.risk_limits import engine_risk_limits
from aether.domain.accounts import TradingState
from aether.domain.instruments import Instrument
from aether.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from aether.oms.account_state import account_view
from aether.oms.errors import OrderNotFound, OrderNotOpen, OrderRefused, field_of_rule
from aether.oms.instruments import tradable_instrument
from aether.oms.new_order import NewOrder, build_order
from aether.oms.publishing import EventSink
from aether.oms.records import order_by_cl_ord_id
from aether.oms.venue_port import OrderVenue
from aether.risk.pre_trade import AccountView, check_order
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow


class VenueLookup(Protocol):
    async def venue_for(self, account: AccountRow) -> OrderVenue: ...


class OrderPath(Protocol):
    """What an amend needs of the order service (it is given the service itself)."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def venues(self) -> VenueLookup: ...

    @property
    def events(self) -> EventSink | None: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    async def send(
        self, account_id: uuid.UUID, cl_ord_id: str, order: Order, venue: OrderVenue
    ) -> OrderRow: ...


@dataclass(frozen=True, slots=True)
class AmendChange:
    """The new values; None leaves one as it is. ``quantity`` is the new total."""

    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None

    def payload(self) -> dict[str, str]:
        """The values given, exact, as an event payload."""
        values = {"quantity": self.quantity, "price": self.price}
        values["trigger_price"] = self.trigger_price
        return {name: f"{value:f}" for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class AmendPlan:
    """An amend that passed every check: the amended order as a request and validated."""

    cl_ord_id: str
    new: NewOrder  # the amended order (its new total quantity)
    order: Order  # ``new`` validated and risk-checked
    instrument: Instrument
    venue: OrderVenue


async def plan_amend(
    service: OrderPath, account: AccountRow, cl_ord_id: str, change: AmendChange
) -> AmendPlan:
    """Every check, before anything is written."""
    if change.quantity is None and change.price is None and change.trigger_price is None:
        raise OrderRefused(
            "nothing to amend: give quantity, price or trigger_price",
            rules=("amend",),
            field="quantity",
        )
    if account.status != "active":
        raise OrderRefused(
            f"account {account.name} is {account.status}: it takes no orders",
            rules=("account_status",),
            field="account_id",
        )
    config = stored_config(account.config)
    async with service.sessions() as session:
        row = await open_order_row(session, account.id, cl_ord_id)
        instrument = await tradable_instrument(session, row.symbol)
        if instrument is None:
            raise OrderRefused(
                f"symbol {row.symbol} is not tradable now", rules=("symbol",), field="symbol"
            )
        quantity = row.quantity if change.quantity is None else change.quantity
        if quantity <= row.filled_quantity:
            raise OrderRefused(
                f"quantity {quantity} is not above the {row.filled_quantity:f} already filled "
                "(cancel the order instead)",
                rules=("filled",),
                field="quantity",
            )
        new = _amended(row, change, row.cl_ord_id, quantity)
        order = build_order(new, instrument)
        if config.trading_state is TradingState.HALTED:
            raise OrderRefused(
                "trading is halted: no amends are accepted", rules=("trading_state",), field="side"
            )
        venue = await service.venues.venue_for(account)
        if _adds_exposure(row, order):
            view, quote = await account_view(
                session, account.id, config.trading_state, instrument, venue, service.clock()
            )
            verdict = check_order(
                order.request,
                instrument,
                price=_valuation(order, quote.ask, quote.bid),
                account=_without_own_hold(view, row, instrument),
                limits=engine_risk_limits(config),
                fee_rate=instrument.fees.tiers[0].taker,
            )
            if not verdict.approved:
                rules = verdict.rules()
                raise OrderRefused(verdict.reason(), rules=rules, field=field_of_rule(rules[0]))
    return AmendPlan(cl_ord_id, new, order, instrument, venue)


async def open_order_row(
    session: AsyncSession, account_id: uuid.UUID, cl_ord_id: str, *, lock: bool = False
) -> OrderRow:
    """This account's open order ``cl_ord_id``; OrderNotFound or OrderNotOpen otherwise."""
    row = await order_by_cl_ord_id(session, account_id, cl_ord_id, lock=lock)
    if row is None:
        raise OrderNotFound(f"no order {cl_ord_id} on this account", field="cl_ord_id")
    if OrderStatus(row.status).is_terminal:
        raise OrderNotOpen(f"order {cl_ord_id} is {row.status}", field="cl_ord_id")
    return row


def _amended(row: OrderRow, change: AmendChange, cl_ord_id: str, quantity: Decimal) -> NewOrder:
    """The stored order with the change applied, as a new-order request to validate."""
    return NewOrder(
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        quantity=quantity,
        price=row.price if change.price is None else change.price,
        trigger_price=row.trigger_price if change.trigger_price is None else change.trigger_price,
        time_in_force=TimeInForce(row.time_in_force),
        expire_at_s=None if row.expire_at is None else int(row.expire_at.timestamp()),
        post_only=row.post_only,
        cl_ord_id=cl_ord_id,
    )


def _adds_exposure(row: OrderRow, order: Order) -> bool:
    """More quantity, or a buy that may now pay more (its limit or trigger raised)."""
    request = order.request
    if request.quantity > row.quantity:
        return True
    if request.side is not Side.BUY:
        return False
    return any(
        new is not None and (old is None or new > old)
        for new, old in ((request.price, row.price), (request.trigger_price, row.trigger_price))
    )


def _valuation(order: Order, ask: Decimal, bid: Decimal) -> Decimal:
    request = order.request
    if request.price is not None:
        return request.price
    return ask if request.side is Side.BUY else bid


def _without_own_hold(view: AccountView, row: OrderRow, instrument: Instrument) -> AccountView:
    """The view as if the order being amended were not open: its hold is free again (a buy's
    hold counted without its fee, so the check errs on the side of refusing)."""
    remaining = row.quantity - row.filled_quantity
    available = dict(view.available)
    if row.side == Side.BUY.value:
        price = row.price or row.trigger_price or Decimal(0)
        asset, freed = instrument.quote, remaining * price
    else:
        asset, freed = instrument.base, remaining
    available[asset] = available.get(asset, Decimal(0)) + freed
    return dataclasses.replace(view, available=available, open_orders=max(view.open_orders - 1, 0))
