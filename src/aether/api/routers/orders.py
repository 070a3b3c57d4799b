"""/api/v1/accounts/{id}/orders: submit, list, read, amend and cancel an account's orders.

Submitting, amending and cancelling need the ``trader`` role and a ``trade``-scoped key;
reading needs ``viewer``. Every refusal names the field and writes nothing: an unknown pair,
a quantity or price the instrument refuses (zero, negative, NaN, off the lot or tick), a duplicate
``cl_ord_id``, a trading state or risk limit that forbids the order. Another account's
``cl_ord_id`` is 404 exactly like an unknown one. An account without a venue the API can
send to (paper accounts, until the account runner exists; live accounts without
credentials) gets 409 ``no_venue``. An amend (``PATCH``) answers the order as it stands after
and ``method``: ``amend`` (in place, same ``cl_ord_id``) or ``cancel_replace`` (a new order
whose ``replaces`` names the old one); a finished order is 409, a venue refusal 409
``amend_rejected``, no answer from the venue 502.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from aether.api.deps import KeyCheckedRoute, Session, ViewableAccount, account_access
from aether.api.errors import ApiError, error_responses
from aether.api.types import PairText, Timestamp
from aether.domain.accounts import Role, Scope
from aether.domain.orders import OrderStatus, OrderType, Side, TimeInForce
from aether.marketdata.pair_names import canonical_pair
from aether.oms.errors import (
    AmendRejected,
    DuplicateOrder,
    NoVenue,
    OrderNotFound,
    OrderNotOpen,
    OrderRefused,
    OrderServiceError,
    VenueUnanswered,
    VenueUnavailable,
)
from aether.oms.new_order import NewOrder
from aether.oms.records import order_payload
from aether.oms.service import OrderService
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.pair_names import UnknownPairError

router = APIRouter(prefix="/accounts", tags=["orders"], route_class=KeyCheckedRoute)

TradingAccount = Annotated[AccountRow, Depends(account_access(Role.TRADER, Scope.TRADE))]

# Kraken's cl_ord_id: a UUID, or 1-18 of [A-Za-z0-9_-] (as domain.orders checks it).
_CL_ORD_ID = (
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z0-9_-]{1,18})$"
)
ClOrdId = Annotated[str, Field(min_length=1, max_length=36, pattern=_CL_ORD_ID)]
ClOrdIdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=_CL_ORD_ID)]
#: A price or quantity: finite, positive, at most 30 digits of which 18 after the point
#: (the instrument's tick and lot decide what is allowed further in).
Amount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=30, decimal_places=18)]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: PairText = Field(description="A USD pair: XBTUSD, BTC/USD, XBT/USD or XXBTZUSD")
    side: Side
    type: OrderType
    quantity: Amount = Field(description="Base quantity, on the pair's lot size")
    price: Amount | None = Field(default=None, description="Limit price, on the tick")
    trigger_price: Amount | None = Field(default=None, description="Trigger, on the tick")
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at: Timestamp | None = Field(default=None, description="GTD orders only")
    post_only: bool = False
    cl_ord_id: ClOrdId | None = Field(
        default=None, description="Your id for the order (a UUID is chosen when absent)"
    )


class OrderOut(BaseModel):
    account_id: str
    cl_ord_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    quantity: str
    price: str | None
    trigger_price: str | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: str
    avg_fill_price: str | None
    venue_order_id: str | None
    reason: str | None
    decision_price: str | None
    mid_at_submit: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: OrderRow) -> OrderOut:
        body: dict[str, Any] = {
            **order_payload(row),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        return cls.model_validate(body)


class AmendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Amount | None = Field(default=None, description="New total base quantity")
    price: Amount | None = Field(default=None, description="New limit price, on the tick")
    trigger_price: Amount | None = Field(default=None, description="New trigger, on the tick")


class AmendOut(OrderOut):
    method: Literal["amend", "cancel_replace"]
    replaces: str | None = Field(description="The replaced order's cl_ord_id (cancel_replace)")


def order_service(request: Request) -> OrderService:
    service: OrderService = request.app.state.order_service
    return service


Orders = Annotated[OrderService, Depends(order_service)]


def _refusal(exc: OrderServiceError) -> ApiError:
    where = "path.cl_ord_id" if isinstance(exc, OrderNotFound | OrderNotOpen) else None
    fields = [{"field": where or f"body.{exc.field or 'order'}", "message": exc.message}]
    if isinstance(exc, OrderNotFound):
        return ApiError(404, "not_found", "order not found")
    if isinstance(exc, OrderRefused):
        state = {"trading_state", "account_status"} & set(exc.rules)
        code = 409 if state else 422
        return ApiError(code, exc.code, exc.message, fields=fields)
    if isinstance(exc, VenueUnanswered | VenueUnavailable):
        return ApiError(502, exc.code, exc.message)
    if isinstance(exc, DuplicateOrder | OrderNotOpen | NoVenue | AmendRejected):
        return ApiError(409, exc.code, exc.message, fields=fields)
    return ApiError(422, exc.code, exc.message, fields=fields)


@router.post(
    "/{account_id}/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Submit an order (persisted, then sent to the account's venue)",
    responses=error_responses(400, 403, 404, 409, 413, 422),
)
async def submit_order(
    account: TradingAccount, body: OrderIn, session: Session, orders: Orders
) -> OrderOut:
    try:
        symbol = await canonical_pair(session, body.symbol)
    except UnknownPairError as exc:
        raise ApiError(
            422, "unknown_pair", str(exc), fields=[{"field": "body.symbol", "message": str(exc)}]
        ) from exc
    new = NewOrder(
        symbol=symbol,
        side=body.side,
        type=body.type,
        quantity=body.quantity,
        price=body.price,
        trigger_price=body.trigger_price,
        time_in_force=body.time_in_force,
        expire_at_s=None if body.expire_at is None else int(body.expire_at.timestamp()),
        post_only=body.post_only,
        cl_ord_id=body.cl_ord_id,
    )
    try:
        return OrderOut.of(await orders.submit(account, new))
    except OrderServiceError as exc:
        raise _refusal(exc) from exc


@router.get(
    "/{account_id}/orders",
    summary="The account's orders, newest first",
    responses=error_responses(403, 404, 422),
)
async def list_orders(
    account: ViewableAccount,
    orders: Orders,
    status_in: Annotated[list[OrderStatus] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OrderOut]:
    rows = await orders.list(account, status_in or (), limit)
    return [OrderOut.of(row) for row in rows]


@router.get(
    "/{account_id}/orders/{cl_ord_id}",
    summary="One order by its cl_ord_id",
    responses=error_responses(403, 404, 422),
)
async def get_order(account: ViewableAccount, cl_ord_id: ClOrdIdPath, orders: Orders) -> OrderOut:
    try:
        return OrderOut.of(await orders.get(account, cl_ord_id))
    except OrderServiceError as exc:
        raise _refusal(exc) from exc


@router.delete(
    "/{account_id}/orders/{cl_ord_id}",
    summary="Cancel an open order",
    responses=error_responses(403, 404, 409, 422),
)
async def cancel_order(account: TradingAccount, cl_ord_id: ClOrdIdPath, orders: Orders) -> OrderOut:
    try:
        return OrderOut.of(await orders.cancel(account, cl_ord_id))
    except OrderServiceError as exc:
        raise _refusal(exc) from exc


@router.patch(
    "/{account_id}/orders/{cl_ord_id}",
    summary="Amend an open order (in place where the venue can, else cancel-replace)",
    responses=error_responses(400, 403, 404, 409, 413, 422, 502),
)
async def amend_order(
    account: TradingAccount, cl_ord_id: ClOrdIdPath, body: AmendIn, orders: Orders
) -> AmendOut:
    try:
        done = await orders.amend(account, cl_ord_id, body.quantity, body.price, body.trigger_price)
    except OrderServiceError as exc:
        raise _refusal(exc) from exc
    order = OrderOut.of(done.order).model_dump()
    return AmendOut(**order, method=done.method.value, replaces=done.replaces)
